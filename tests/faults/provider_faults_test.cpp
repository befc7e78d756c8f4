// Faults of the provider's API as the dialer meets them: 429 and 5xx
// answers, an answer that never comes, a connection closed after the
// request. Nobody may be rung twice, and every lead must be rung.
#include "fault_support.hpp"

#include "fake_twilio_account.hpp"

#include <boost/json/serialize.hpp>

using namespace callgate;
using namespace callgate::faults;
using testing::FakeTwilioAccount;

BOOST_AUTO_TEST_SUITE(faults_provider)

BOOST_AUTO_TEST_CASE(the_provider_answering_429_500_hanging_and_closing) {
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, "AC0123456789abcdef0123456789abcdef", kAuthToken);
  // Per number: the first try refused (429 then 500 are scripted below for
  // the first two requests), then for some numbers the call is created and
  // the connection closed before the answer, for others closed without one.
  twilio.script(testing::ScriptedAnswer{
      429, R"({"code":20429,"message":"Too Many Requests"})", "application/json", {{"Retry-After", "1"}}});
  twilio.script({500, R"({"code":20500,"message":"Internal Server Error"})"});
  auto asked = std::make_shared<std::map<std::string, int>>();  // create requests per number, on the server's thread
  account.decide([asked](const std::string& to, std::size_t calls_so_far) {
    if (calls_so_far > 0 || (*asked)[to]++ > 0) return FakeTwilioAccount::Fate::answer;
    const char last = to.back();
    if (last == '1') return FakeTwilioAccount::Fate::create_then_drop;       // rang, answer lost
    if (last == '2') return FakeTwilioAccount::Fate::drop_without_creating;  // never rang
    return FakeTwilioAccount::Fate::answer;
  });
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kFastDialer + "  ambiguous:\n    grace: 1s\n"));
  const std::vector<std::string> numbers{"+919876500001", "+919876500002", "+919876500003"};
  std::vector<std::string> ids;
  for (const auto& number : numbers)
    ids.push_back(lead_id_of(enquire(daemon.port(), R"({"phone":")" + number + R"(","consent":true})")));
  std::size_t rung = 0;
  for (int tries = 0; tries < 750; ++tries, std::this_thread::sleep_for(20ms)) {
    rung = 0;
    for (const auto& number : numbers) rung += account.calls_to(number) >= 1 ? 1 : 0;
    if (rung == numbers.size()) break;
  }
  std::this_thread::sleep_for(2s);  // time enough for a second call, were one coming
  std::size_t twice = 0;
  for (const auto& number : numbers) twice += account.calls_to(number) > 1 ? 1 : 0;
  std::cout << "FAULT provider answering 429, 500, closing after creating and closing without creating: "
            << numbers.size() << " enquiries acknowledged, " << numbers.size() - rung << " never rung, " << twice
            << " rung twice; ambiguous placements settled from the provider's call list" << std::endl;
  BOOST_TEST(rung == numbers.size());
  BOOST_TEST(twice == 0u);
  if (rung != numbers.size())
    for (const auto& id : ids) BOOST_TEST_MESSAGE(boost::json::serialize(get_lead(daemon.port(), id)));
  BOOST_TEST(testing::http_get(daemon.port(), "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(the_provider_hanging) {
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, "AC0123456789abcdef0123456789abcdef", kAuthToken);
  // Every answer to a create comes 3 s late, past the client's deadline.
  account.answer_after(std::chrono::milliseconds(3000));
  auto yaml = lead_config(twilio.port(), kMemoryStore, kFastDialer + "  ambiguous:\n    grace: 1s\n");
  const std::string section = "  http_client:\n";
  yaml.insert(yaml.find(section) + section.size(), "    request_timeout: 1s\n    total_timeout: 2s\n");
  DaemonProcess daemon(yaml);
  const std::string number = "+919876500009";
  lead_id_of(enquire(daemon.port(), R"({"phone":")" + number + R"(","consent":true})"));
  for (int tries = 0; tries < 750 && account.calls_to(number) < 1; ++tries) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(5s);  // the late answer, the settling, any second try
  std::cout << "FAULT provider hanging past the deadline: rung " << account.calls_to(number)
            << " time(s); the daemon went on serving" << std::endl;
  BOOST_TEST(account.calls_to(number) == 1u);
  BOOST_TEST(testing::http_get(daemon.port(), "/healthz").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
