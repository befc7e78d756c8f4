// The dialer end to end with the real daemon and a fake Twilio over real
// TLS: retries and Retry-After, redials, calling hours, breakers and
// failover, pacing, daily caps; ambiguous placements settled against the
// provider's call list; and several hosts on one Redis, one of them killed
// mid-run, ringing every number exactly once.
#include "eventually.hpp"
#include "fake_twilio_account.hpp"
#include "lead_flow_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace callgate {

using namespace lead_flow;
using testing::FakeTwilioAccount;
using testing::ScriptedAnswer;

namespace {

constexpr const char* kAccountSid = "AC0123456789abcdef0123456789abcdef";

// An ambiguous placement is looked up after a second, not 30.
const std::string kQuickSettling = kFastDialer + "  ambiguous:\n    grace: 1s\n";

// Waits until the number has `count` calls at the fake account (or 10 s passed).
std::size_t wait_for_calls(const FakeTwilioAccount& account, const std::string& number, std::size_t count) {
  for (int tries = 0; tries < 500 && account.calls_to(number) < count; ++tries) std::this_thread::sleep_for(20ms);
  return account.calls_to(number);
}

// The lead once its call `index` has a call sid (or as it is after 10 s).
boost::json::object wait_for_call_sid(unsigned short port, const std::string& id, std::size_t index) {
  boost::json::object lead;
  for (int tries = 0; tries < 500; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(port, id);
    const auto& attempts = lead.at("attempts").as_array();
    if (attempts.size() > index && !attempts[index].at("callSid").as_string().empty()) break;
  }
  return lead;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dialer)

BOOST_AUTO_TEST_CASE(a_call_that_cannot_be_placed_is_retried_and_never_sooner_than_retry_after) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({503, R"({"code":20500,"message":"Service unavailable"})"});
  twilio.script(testing::ScriptedAnswer{
      429, R"({"code":20429,"message":"Too Many Requests"})", "application/json", {{"Retry-After", "2"}}});
  twilio.script({201, kPlaced});
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kFastDialer));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  auto seen = wait_for_requests(twilio, 2);
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  // Between the 429 and the next try the lead says what it waits for.
  const auto waiting = wait_for_next_call(daemon.port(), id, "retry 2:");
  BOOST_TEST(waiting.starts_with("retry 2:"), waiting);
  auto all = wait_for_requests(twilio, 3);
  BOOST_TEST_REQUIRE(all.size() == 3u);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(all[2] - seen[1]).count() >= 1950,
             "the try after Retry-After: 2 came too soon");
  const auto lead = wait_for_attempt(daemon.port(), id);
  BOOST_TEST_REQUIRE(lead.at("attempts").as_array().size() == 1u);  // one call, not three
  BOOST_TEST(lead.at("attempts").as_array()[0].at("callSid").as_string() == "CA00000000000000000000000000000001");
  BOOST_TEST(!lead.contains("nextCall"));
  for (const auto& request : twilio.requests())
    BOOST_TEST(request.body == twilio.requests()[0].body);  // the same call each time
}

BOOST_AUTO_TEST_CASE(each_reactor_opens_its_provider_connections_before_the_first_call) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  // Two reactors, two warm connections each (the default).
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kFastDialer));
  for (int tries = 0; tries < 250 && twilio.connections_accepted() < 4; ++tries) std::this_thread::sleep_for(20ms);
  BOOST_TEST(twilio.connections_accepted() == 4u);
  BOOST_TEST(twilio.requests().empty());
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  BOOST_TEST_REQUIRE(wait_for_requests(twilio, 1).size() == 1u);
  BOOST_TEST(twilio.connections_accepted() == 4u);  // the call went over one of them
  BOOST_TEST(metric_reaching(daemon.port(), "callgate_provider_connections_opened_total", 4) == 4);
  BOOST_TEST(metric_reaching(daemon.port(), "callgate_provider_connections_reused_total", 1) == 1);
  const auto lead = wait_for_attempt(daemon.port(), id);
  BOOST_TEST(lead.at("attempts").as_array()[0].at("callSid").as_string() == "CA00000000000000000000000000000001");
}

BOOST_AUTO_TEST_CASE(a_provider_out_of_reach_at_start_is_logged_and_the_daemon_still_serves) {
  unsigned short closed_port = 0;
  {
    FakeProviderServer gone(&testing::test_certificates());
    closed_port = gone.port();
  }
  DaemonProcess daemon(lead_config(closed_port, kMemoryStore, kFastDialer));
  const auto logged = daemon.wait_for_event("provider_connections_not_opened");
  BOOST_TEST_REQUIRE(logged.has_value());
  BOOST_TEST(logged->at("provider").as_string() == "twilio");
  BOOST_TEST(std::string(logged->at("reason").as_string()).find("cannot connect") != std::string::npos);
  BOOST_TEST(lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})")).size() == 26u);
}

BOOST_AUTO_TEST_CASE(a_busy_customer_is_called_again_and_an_answered_call_ends_it) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, kSecondPlaced});
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kFastDialer));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  wait_for_attempt(daemon.port(), id);
  testing::Connection connection(daemon.port());
  BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "ringing", 1)) == 204);
  BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "busy", 2)) == 204);
  BOOST_TEST(wait_for_next_call(daemon.port(), id, "redial: busy") == "redial: busy");
  BOOST_TEST_REQUIRE(wait_for_requests(twilio, 2).size() == 2u);
  const auto lead = wait_for_attempts(daemon.port(), id, 2);
  BOOST_TEST_REQUIRE(lead.at("attempts").as_array().size() == 2u);
  BOOST_TEST(lead.at("attempts").as_array()[1].at("callSid").as_string() == "CA00000000000000000000000000000002");
  // A late duplicate of the first call's end does not start a third.
  BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "busy", 2)) == 204);
  BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000002", "in-progress", 1)) == 204);
  BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000002", "completed", 2)) == 204);
  std::this_thread::sleep_for(1500ms);  // longer than the redial delay
  BOOST_TEST(twilio.requests().size() == 2u);
  const auto done = get_lead(daemon.port(), id);
  BOOST_TEST(done.at("status").as_string() == "completed");
  BOOST_TEST(!done.contains("nextCall"));
}

BOOST_AUTO_TEST_CASE(a_scheduled_redial_survives_a_restart) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, kSecondPlaced});
  TemporaryDirectory directory;
  const std::string slow_redial = "dialer:\n  redial:\n    delays: [2s]\n    max_calls: 2\n";
  std::string id;
  {
    DaemonProcess daemon(lead_config(twilio.port(), journal_store(directory), slow_redial));
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
    testing::Connection connection(daemon.port());
    BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "no-answer", 1)) == 204);
    BOOST_TEST(wait_for_next_call(daemon.port(), id, "redial: no-answer") == "redial: no-answer");
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for_exit(10s).value_or(-1) == 0);
  }
  BOOST_TEST(twilio.requests().size() == 1u);
  DaemonProcess restarted(lead_config(twilio.port(), journal_store(directory), slow_redial));
  BOOST_TEST_REQUIRE(wait_for_requests(twilio, 2).size() == 2u);
  BOOST_TEST(wait_for_attempts(restarted.port(), id, 2).at("attempts").as_array().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_provider_failing_again_and_again_trips_its_breaker_and_calls_fail_over) {
  FakeProviderServer twilio(&testing::test_certificates());
  FakeProviderServer exotel(&testing::test_certificates());
  for (int index = 0; index < 4; ++index) twilio.script({503, R"({"code":20500,"message":"Service unavailable"})"});
  exotel.script({200, R"({"Call":{"Sid":"b6cfaf2ba6f8e7ef1a8d5fbe1c2d3e4f","Status":"in-progress"}})"});
  exotel.script({200, R"({"Call":{"Sid":"c7d0b03cb7f9f8f02b9e6acf2d3e4f50","Status":"in-progress"}})"});
  // +91 numbers: Twilio first, Exotel when Twilio's breaker is open.
  auto config = lead_config(twilio.port(), kMemoryStore,
                            "dialer:\n  retry:\n    base: 20ms\n    cap: 50ms\n    max_tries: 6\n"
                            "  breaker:\n    failures_to_open: 2\n    open_for: 1m\n");
  const std::string routes =
      "  routes:\n    - prefix: \"+91\"\n      providers: [twilio, exotel]\n"
      "  exotel:\n    account_sid: \"callgate1\"\n    api_key: \"exotel-key\"\n    api_token: \"exotel-token\"\n"
      "    exophone_number: \"08047112233\"\n    flow_id: \"556677\"\n"
      "    api_base: \"https://localhost:" +
      std::to_string(exotel.port()) +
      "\"\n"
      "    webhook_auth:\n      callback_token: \"exo-token\"\n";
  config.replace(config.find("  twilio:\n"), 0, routes);
  DaemonProcess daemon(config);
  const auto first = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  const auto lead = wait_for_attempts(daemon.port(), first, 1);
  BOOST_TEST_REQUIRE(lead.at("attempts").as_array().size() == 1u, boost::json::serialize(lead));
  BOOST_TEST(lead.at("attempts").as_array()[0].at("provider").as_string() == "exotel");
  BOOST_TEST(twilio.requests().size() == 2u);  // two 503s opened the breaker
  // While it is open, a new lead goes straight to Exotel: Twilio hears nothing more.
  const auto second = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543211","consent":true})"));
  BOOST_TEST(wait_for_attempts(daemon.port(), second, 1).at("attempts").as_array()[0].at("provider").as_string() ==
             "exotel");
  BOOST_TEST(twilio.requests().size() == 2u);
  BOOST_TEST(exotel.requests().size() == 2u);
  const auto exposition = testing::http_get(daemon.port(), "/metrics").body;
  BOOST_TEST(exposition.find("callgate_provider_breaker_state{provider=\"twilio\"} 2") != std::string::npos,
             exposition);
  BOOST_TEST(exposition.find("callgate_provider_breaker_state{provider=\"exotel\"} 0") != std::string::npos);
  BOOST_TEST(exposition.find("callgate_calls_placed_total{provider=\"twilio\",outcome=\"retryable\"} 2") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_burst_of_enquiries_is_paced_to_the_accounts_calls_per_minute) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, kSecondPlaced});
  twilio.script({201, R"({"sid":"CA00000000000000000000000000000003","status":"queued"})"});
  auto config = lead_config(twilio.port(), kMemoryStore);
  config.replace(config.find("    api_base:"), 0, "    calls_per_minute: 60\n");  // one a second
  DaemonProcess daemon(config);
  std::vector<std::string> ids;
  for (const char* phone : {"+919876543210", "+919876543211", "+919876543212"})
    ids.push_back(lead_id_of(enquire(daemon.port(), std::string(R"({"phone":")") + phone + R"(","consent":true})")));
  const auto seen = wait_for_requests(twilio, 3);
  BOOST_TEST_REQUIRE(seen.size() == 3u);
  // Each call in its own one-second slot: the third no sooner than two
  // slots after the first (less the first's own lateness, at most a tenth
  // of a slot here, and the 10 ms the fake's times are read to). A call
  // placed late on a busy machine may come close to the next one, so the
  // gaps between neighbours are not what is checked.
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(seen[1] - seen[0]).count() >= 890,
             "the second call came before its slot");
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(seen[2] - seen[0]).count() >= 1'890,
             "the third call came before its slot");
  for (const auto& id : ids) BOOST_TEST(wait_for_attempts(daemon.port(), id, 1).at("attempts").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_number_called_its_daily_cap_waits_for_tomorrow_whatever_the_lead) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, kSecondPlaced});
  DaemonProcess daemon(
      lead_config(twilio.port(), kMemoryStore, "  duplicate_window: 0s\ndialer:\n  max_calls_per_number_per_day: 1\n"));
  const auto first = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  wait_for_attempts(daemon.port(), first, 1);
  const auto second = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  BOOST_TEST(second != first);
  BOOST_TEST(wait_for_next_call(daemon.port(), second, "daily cap: 1 calls to this number today") ==
             "daily cap: 1 calls to this number today");
  BOOST_TEST(twilio.requests().size() == 1u);
  const auto lead = get_lead(daemon.port(), second);
  BOOST_TEST(lead.at("attempts").as_array().empty());
  BOOST_TEST(std::string(lead.at("nextCall").at("due").as_string()).ends_with("T00:00:00.000Z"),  // tomorrow, UTC
             lead.at("nextCall").at("due").as_string());
}

BOOST_AUTO_TEST_CASE(an_enquiry_outside_calling_hours_waits_for_the_next_opening) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  // A one-hour window (UTC) starting two hours from now: closed now.
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  const int opens = (utc.tm_hour + 2) % 24;
  char window[160];
  std::snprintf(window, sizeof window,
                "dialer:\n  calling_hours:\n    time_zone: \"UTC\"\n    opens: \"%02d:00\"\n    closes: \"%02d:00\"\n",
                opens, (opens + 1) % 24);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, window));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  // Held: its job waits for the opening, and nothing was placed meanwhile.
  BOOST_REQUIRE(testing::eventually([&] { return get_lead(daemon.port(), id).contains("nextCall"); }));
  BOOST_TEST(twilio.requests().empty());
  const auto lead = get_lead(daemon.port(), id);
  BOOST_TEST_REQUIRE(lead.contains("nextCall"));
  BOOST_TEST(lead.at("nextCall").at("reason").as_string() == "enquiry (held for calling hours)");
  char opening[8];
  std::snprintf(opening, sizeof opening, "T%02d:00", opens);
  BOOST_TEST(std::string(lead.at("nextCall").at("due").as_string()).find(opening) != std::string::npos,
             lead.at("nextCall").at("due").as_string());
  BOOST_TEST(lead.at("status").as_string() == "pending");
}

BOOST_AUTO_TEST_CASE(a_call_the_provider_made_but_never_answered_for_is_found_not_placed_twice) {
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  // The call is made, then the connection drops before the answer: ambiguous.
  account.decide([](const std::string&, std::size_t calls) {
    return calls == 0 ? FakeTwilioAccount::Fate::create_then_drop : FakeTwilioAccount::Fate::answer;
  });
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kQuickSettling));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  const auto checking = wait_for_next_call(daemon.port(), id, "checking whether call 1 rang");
  BOOST_TEST(checking.starts_with("checking whether call 1 rang"), checking);
  // The lookup finds the call and gives the ambiguous attempt its sid.
  const auto lead = wait_for_call_sid(daemon.port(), id, 0);
  BOOST_TEST_REQUIRE(lead.at("attempts").as_array().size() == 1u);
  BOOST_TEST(lead.at("attempts").as_array()[0].at("callSid").as_string() == "CA00000000000000000000000000000001");
  BOOST_TEST(account.lookups() >= 1u);
  BOOST_TEST(metric_reaching(daemon.port(), R"(callgate_ambiguous_placements_settled_total{by="found"})", 1) == 1);
  std::this_thread::sleep_for(1500ms);  // past another grace: nothing more happens
  BOOST_TEST(account.calls_to("+919876543210") == 1u);
  BOOST_TEST(!get_lead(daemon.port(), id).contains("nextCall"));
  // The lookup was exactly Twilio's list request.
  const auto requests = twilio.requests();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[1].method == "GET");
  BOOST_TEST(requests[1].target ==
             std::string("/2010-04-01/Accounts/") + kAccountSid + "/Calls.json?To=%2B919876543210&PageSize=50");
  BOOST_TEST(requests[1].body.empty());
  BOOST_TEST(account.wrong_requests().empty());
}

BOOST_AUTO_TEST_CASE(a_call_the_provider_never_made_is_placed_again_once_its_list_says_so) {
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  auto requests_seen = std::make_shared<std::atomic<int>>(0);
  account.decide([requests_seen](const std::string&, std::size_t) {
    return (*requests_seen)++ == 0 ? FakeTwilioAccount::Fate::drop_without_creating : FakeTwilioAccount::Fate::answer;
  });
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, kQuickSettling));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  BOOST_TEST(wait_for_calls(account, "+919876543210", 1) == 1u);
  const auto lead = wait_for_call_sid(daemon.port(), id, 1);
  const auto& attempts = lead.at("attempts").as_array();
  BOOST_TEST_REQUIRE(attempts.size() == 2u, boost::json::serialize(lead));
  BOOST_TEST(std::string(attempts[0].at("error").as_string()).starts_with("ambiguous"));
  BOOST_TEST(attempts[1].at("callSid").as_string() == "CA00000000000000000000000000000001");
  BOOST_TEST(account.lookups() == 1u);
  BOOST_TEST(metric_reaching(daemon.port(), R"(callgate_ambiguous_placements_settled_total{by="missing"})", 1) == 1);
  // Both placements were the same request.
  const auto requests = twilio.requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  BOOST_TEST(requests[0].body == requests[2].body);
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(account.calls_to("+919876543210") == 1u);
  BOOST_TEST(account.wrong_requests().empty());
}

BOOST_AUTO_TEST_CASE(a_provider_whose_list_cannot_be_read_is_never_dialed_again_and_the_lead_ends_failed) {
  FakeProviderServer twilio(&testing::test_certificates());
  ScriptedAnswer dropped;
  dropped.drop_after_request = true;
  twilio.script(dropped);  // the placement: ambiguous
  for (int lookup = 0; lookup < 2; ++lookup)
    twilio.script({500, R"({"code":20500,"message":"Internal Server Error"})"});  // its call list, twice
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore,
                                   kFastDialer + "  ambiguous:\n    grace: 1s\n    max_failed_lookups: 2\n"));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  const auto looking = wait_for_next_call(daemon.port(), id, "checking whether call 1 rang: lookup failed");
  BOOST_TEST(looking.starts_with("checking whether call 1 rang: lookup failed: twilio: HTTP 500"), looking);
  // After the second failed lookup: given up, the lead failed, no second placement.
  boost::json::object lead;
  for (int tries = 0; tries < 250; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(daemon.port(), id);
    if (lead.at("status").as_string() == "failed") break;
  }
  BOOST_TEST(lead.at("status").as_string() == "failed");
  BOOST_TEST_REQUIRE(lead.at("attempts").as_array().size() == 2u);
  BOOST_TEST(std::string(lead.at("attempts").as_array()[1].at("error").as_string())
                 .starts_with("not called again: whether call 1 rang"));
  BOOST_TEST(!lead.contains("nextCall"));
  const auto requests = twilio.requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  BOOST_TEST(requests[0].method == "POST");
  BOOST_TEST(requests[1].method == "GET");
  BOOST_TEST(requests[2].method == "GET");
  BOOST_TEST(metric_reaching(daemon.port(), R"(callgate_ambiguous_placements_settled_total{by="gave_up"})", 1) == 1);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A host of several on one shared store: generous intake limits, unpaced, a
// short lease so a dead host's claims come back within the test.
std::string host_config(unsigned short twilio_port, const std::string& store) {
  return lead_config(twilio_port, store,
                     "  duplicate_window: 10m\n" + kFastDialer + "  lease: 5s\n  ambiguous:\n    grace: 1s\n",
                     "  rate_per_minute: 1000000\n  rate_burst: 1000000\n");
}

std::string nth_number(int index) {
  const auto digits = std::to_string(100'000 + index);
  return "+9198765" + digits.substr(1);
}

// Sends enquiries index, index + stride, ... below count, each to a live
// host (starting with its own), until one acknowledges it.
void enquire_numbers(const std::vector<unsigned short>& ports, const std::atomic<bool>* alive, int first, int stride,
                     int count, std::atomic<int>& acknowledged) {
  for (int index = first; index < count; index += stride) {
    const auto body = R"({"phone":")" + nth_number(index) + R"(","consent":true})";
    for (std::size_t offset = 0; offset < 3 * ports.size(); ++offset) {
      const auto host = (static_cast<std::size_t>(first) + offset) % ports.size();
      if (!alive[host]) continue;
      testing::Connection connection(ports[host]);
      connection.send(
          "POST /enquire HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body);
      const auto raw = connection.read_response();
      if (raw && testing::parse_response(*raw).status == 202) {
        ++acknowledged;
        break;
      }
    }
  }
}

// Until every one of `count` numbers has a call (or 60 s passed); then a
// little longer, for any second call to show.
std::map<std::string, std::size_t> wait_for_every_number(const FakeTwilioAccount& account, std::size_t count) {
  for (int tries = 0; tries < 600 && account.calls_by_number().size() < count; ++tries)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(2s);
  return account.calls_by_number();
}

// Three callgated on one shared store and one fake Twilio account, and
// clients sending each a third of `numbers` enquiries (to another host when
// theirs is down).
struct ThreeHosts {
  using StoreFor = std::function<std::string(const TemporaryDirectory&)>;
  int numbers;
  FakeProviderServer twilio{&testing::test_certificates()};
  FakeTwilioAccount account{twilio, kAccountSid, kAuthToken};
  TemporaryDirectory directories[3];
  std::vector<std::unique_ptr<DaemonProcess>> hosts;
  std::vector<unsigned short> ports;
  std::atomic<bool> alive[3] = {true, true, true};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> clients;

  ThreeHosts(const StoreFor& store_for, int numbers_to_enquire) : numbers(numbers_to_enquire) {
    for (auto& directory : directories) {
      hosts.push_back(std::make_unique<DaemonProcess>(host_config(twilio.port(), store_for(directory))));
      ports.push_back(hosts.back()->port());
    }
    for (const auto port : ports) BOOST_TEST_REQUIRE(wait_until_ready(port));
  }
  void start_enquiring() {
    for (int client = 0; client < 3; ++client)
      clients.emplace_back([this, client] { enquire_numbers(ports, alive, client, 3, numbers, acknowledged); });
  }
  // The provider answers slowly, so the killed host has calls claimed and
  // in flight; once a third are acknowledged, host 0 dies.
  void kill_a_host_mid_run() {
    account.answer_after(std::chrono::milliseconds(20));
    start_enquiring();
    while (acknowledged.load() < numbers / 3) std::this_thread::sleep_for(5ms);
    alive[0] = false;
    hosts[0]->signal(SIGKILL);
  }
  // Once every enquiry is acknowledged: every number's calls, exactly once each.
  void expect_every_number_rung_once() {
    for (auto& client : clients) client.join();
    BOOST_TEST(acknowledged.load() == numbers);
    const auto calls = wait_for_every_number(account, static_cast<std::size_t>(numbers));
    BOOST_TEST(calls.size() == static_cast<std::size_t>(numbers));
    std::size_t twice = 0;
    for (const auto& [number, count] : calls) twice += count > 1;
    BOOST_TEST(twice == 0u, twice << " numbers were rung more than once");
    BOOST_TEST(account.wrong_requests().empty());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dialer_across_hosts, *boost::unit_test::precondition(testing::RedisInstalled()))

BOOST_AUTO_TEST_CASE(three_hosts_on_one_redis_ring_a_thousand_numbers_once_each) {
  testing::RedisServer redis;
  ThreeHosts three([&](const TemporaryDirectory& directory) { return redis_store(redis, directory); }, 1'000);
  three.start_enquiring();
  three.expect_every_number_rung_once();
  BOOST_TEST(three.account.lookups() == 0u);  // nothing was ambiguous
}

BOOST_AUTO_TEST_CASE(an_accounts_pace_holds_across_hosts) {
  testing::RedisServer redis;
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  TemporaryDirectory one, two;
  std::vector<std::unique_ptr<DaemonProcess>> hosts;
  for (auto* directory : {&one, &two}) {
    auto config = host_config(twilio.port(), redis_store(redis, *directory));
    config.replace(config.find("    api_base:"), 0, "    calls_per_minute: 600\n");  // ten a second, for the account
    hosts.push_back(std::make_unique<DaemonProcess>(config));
    BOOST_TEST_REQUIRE(wait_until_ready(hosts.back()->port()));
  }
  // A burst of 20 enquiries, alternately to each host, as fast as they go.
  constexpr int kBurst = 20;
  for (int index = 0; index < kBurst; ++index)
    lead_id_of(enquire(hosts[index % 2]->port(), R"({"phone":")" + nth_number(index) + R"(","consent":true})"));
  for (int tries = 0; tries < 500 && account.call_times().size() < kBurst; ++tries) std::this_thread::sleep_for(20ms);
  const auto times = account.call_times();
  BOOST_TEST_REQUIRE(times.size() == static_cast<std::size_t>(kBurst));
  // Each call in its own slot, 100 ms apart, whichever host placed it: the
  // n-th call never before the first's slot + (n-1) x 100 ms. A call may be
  // placed after its slot (a busy machine), so two may arrive closer than
  // 100 ms; how many arrive in a stretch of time stays within the pace.
  // (The first may itself have gone out up to a slot late, hence n-2.)
  for (std::size_t index = 2; index < times.size(); ++index)
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(times[index] - times.front()).count() >=
                   static_cast<long>(index - 1) * 100 - 10,
               "call " << index + 1 << " came before its slot");
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(times.back() - times.front()).count() >= 1'790);
  BOOST_TEST(account.wrong_requests().empty());
}

BOOST_AUTO_TEST_CASE(a_host_killed_mid_run_leaves_its_jobs_to_the_others_and_nobody_is_rung_twice) {
  testing::RedisServer redis;
  ThreeHosts three([&](const TemporaryDirectory& directory) { return redis_store(redis, directory); }, 1'000);
  three.kill_a_host_mid_run();
  three.expect_every_number_rung_once();
  BOOST_TEST_MESSAGE("lookups made to settle the killed host's claims: " << three.account.lookups());
}

BOOST_AUTO_TEST_SUITE_END()

// The same fleet on one DynamoDB table: the jobs, claims and leases are
// conditional writes there, and a killed host's claims come back by the
// due index once their lease ends.
BOOST_AUTO_TEST_SUITE(dialer_across_hosts_on_dynamodb)

BOOST_AUTO_TEST_CASE(a_host_killed_mid_run_leaves_its_jobs_to_the_others_and_nobody_is_rung_twice) {
  const auto table = testing::fresh_dynamodb_table_name();
  ThreeHosts three([&](const TemporaryDirectory& directory) { return dynamodb_store(directory, table); }, 300);
  three.kill_a_host_mid_run();
  three.expect_every_number_rung_once();
  BOOST_TEST_MESSAGE("lookups made to settle the killed host's claims: " << three.account.lookups());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
