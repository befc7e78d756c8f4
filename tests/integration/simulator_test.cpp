// The newcomer's path, end to end with the real binary and no credentials:
// conf/dev.yaml as a user runs it, the simulator's calls in both formats,
// shuffled and repeated callbacks, what the simulated account refuses, and
// the enquiry page's endpoints.
#include "lead_flow_support.hpp"
#include "loopback_port.hpp"

#include <boost/json/serialize.hpp>

#include <fstream>
#include <map>
#include <sstream>

using namespace callgate;
using namespace callgate::lead_flow;

namespace {

// The dev config names its port in public_base_url, so the daemon cannot be
// left to pick one.
unsigned short free_port() { return testing::free_loopback_port(); }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  std::size_t count = 0;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()), ++count)
    text.replace(at, from.size(), to);
  BOOST_REQUIRE_MESSAGE(count > 0, "'" << from << "' is not in the config");
  return text;
}

// A config whose simulator calls back into the daemon on port.
std::string simulator_config(unsigned short port, const std::string& simulator, const std::string& extra = "") {
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  return "server:\n  listen: \"127.0.0.1:" + std::to_string(port) + "\"\n  threads: 2\n  public_base_url: \"" + base +
         "\"\nlog:\n  level: info\n  access_log: false\nadmin:\n  token: admin-secret\n" + kMemoryStore +
         "telephony:\n  provider: simulator\n  simulator:\n" + simulator + "intake:\n" + std::string(kGenerousRate) +
         extra;
}

bool is_final(std::string_view status) {
  return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" ||
         status == "canceled";
}

// Polls until the lead's first call has ended (its attempt's status is final).
boost::json::object wait_for_first_call_to_end(unsigned short port, const std::string& id,
                                               std::chrono::seconds timeout = 40s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::json::object lead;
  while (std::chrono::steady_clock::now() < deadline) {
    lead = get_lead(port, id);
    const auto& attempts = lead.at("attempts").as_array();
    const auto* status = attempts.empty() ? nullptr : attempts[0].as_object().if_contains("status");
    if (status && is_final(status->as_string())) return lead;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_FAIL("the first call of " + id + " never ended: " + boost::json::serialize(lead));
  return lead;
}

// The statuses of a lead's events as applied, in the order they were applied.
std::vector<std::string> applied_statuses(const boost::json::object& lead) {
  std::vector<std::string> statuses;
  for (const auto& event : lead.at("events").as_array())
    if (event.at("outcome").as_string() == "applied") statuses.push_back(std::string(event.at("status").as_string()));
  return statuses;
}

// What a call that ended this way reports, in Twilio's format, in order.
std::vector<std::string> twilio_sequence_for(std::string_view final_status) {
  if (final_status == "completed") return {"initiated", "ringing", "in-progress", "completed"};
  if (final_status == "failed") return {"initiated", "failed"};
  return {"initiated", "ringing", std::string(final_status)};
}

std::string phone(int index) { return "+9198765" + std::to_string(43210 + index); }

}  // namespace

BOOST_AUTO_TEST_SUITE(newcomer_path)

BOOST_AUTO_TEST_CASE(the_dev_setup_takes_each_enquiry_through_a_whole_call) {
  // conf/dev.yaml as the README runs it, on a free port and a scratch folder.
  TemporaryDirectory scratch;
  const auto port = free_port();
  auto yaml = read_file(std::string(CALLGATE_SOURCE_DIR) + "/conf/dev.yaml");
  yaml = replaced(yaml, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(port));
  yaml = replaced(yaml, "\"var/journal\"", "\"" + scratch.file("journal") + "\"");
  DaemonProcess daemon(replaced(yaml, "token: \"dev-admin-token\"", "token: \"admin-secret\""));
  BOOST_REQUIRE_EQUAL(daemon.port(), port);

  // As many as dev.yaml's rate limit lets one address send at once.
  constexpr int kEnquiries = 5;
  std::vector<std::string> ids;
  for (int index = 0; index < kEnquiries; ++index)
    ids.push_back(lead_id_of(enquire(port, R"({"phone":")" + phone(index) + R"(","consent":true,"name":"Asha"})")));

  int callbacks = 0;
  std::map<std::string, int> endings;
  for (const auto& id : ids) {
    const auto lead = wait_for_first_call_to_end(port, id);
    const auto& attempt = lead.at("attempts").as_array()[0].as_object();
    BOOST_TEST(attempt.at("provider").as_string() == "simulator");
    BOOST_TEST(std::string(attempt.at("callSid").as_string()).starts_with("CA"));
    const std::string ended(attempt.at("status").as_string());
    ++endings[ended];
    // Every event of the call, in the order it happened, each applied once.
    const auto expected = twilio_sequence_for(ended);
    BOOST_TEST(applied_statuses(lead) == expected, boost::test_tools::per_element());
    BOOST_TEST(lead.at("events").as_array().size() == expected.size());
    std::set<int> all_sequence_numbers;
    for (int number = 0; number < static_cast<int>(expected.size()); ++number) all_sequence_numbers.insert(number);
    BOOST_TEST((sequence_numbers_of(lead) == all_sequence_numbers));
    callbacks += static_cast<int>(expected.size());
    if (ended == "completed") {
      BOOST_TEST(lead.at("status").as_string() == "completed");
      // The simulated customer heard the flow and pressed 1.
      const auto& inputs = lead.at("callFlowInputs").as_array();
      BOOST_TEST_REQUIRE(inputs.size() == 1u);
      BOOST_TEST(inputs[0].at("digits").as_string() == "1");
      BOOST_TEST(inputs[0].at("provider").as_string() == "simulator");
      BOOST_TEST(attempt.at("durationSeconds").to_number<std::int64_t>() >= 20);
    } else {
      // dev.yaml redials after a minute.
      BOOST_TEST_REQUIRE(lead.contains("nextCall"), boost::json::serialize(lead));
      BOOST_TEST(std::string(lead.at("nextCall").at("reason").as_string()).find("redial") != std::string::npos);
    }
  }
  for (const auto& [ended, count] : endings) BOOST_TEST_MESSAGE(count << " first call(s) ended " << ended);
  BOOST_TEST(metric_value(port, R"(callgate_calls_placed_total{provider="simulator",outcome="placed"})") == kEnquiries);
  BOOST_TEST(metric_reaching(port, R"(callgate_webhook_events_total{provider="simulator",outcome="applied"})",
                             callbacks) == callbacks);
  BOOST_TEST(metric_reaching(port, R"(callgate_simulator_requests_total{kind="callback",result="ok"})", callbacks) ==
             callbacks);
  const auto exposition = testing::http_get(port, "/metrics").body;
  BOOST_TEST(exposition.find(R"(result="unexpected")") == std::string::npos);
  BOOST_TEST(exposition.find(R"(result="failed")") == std::string::npos);
  BOOST_TEST(daemon.all_output().find("+91987654321") == std::string::npos);  // numbers stay masked in the log
}

BOOST_AUTO_TEST_CASE(shuffled_and_repeated_callbacks_still_leave_every_lead_exact) {
  const auto port = free_port();
  DaemonProcess daemon(
      simulator_config(port,
                       "    outcomes: {answered: 1, busy: 0, no_answer: 0, failed: 0}\n"
                       "    ring_time: {min: 1s, max: 3s}\n    talk_time: {min: 5s, max: 20s}\n"
                       "    speed: 20\n    shuffle_callbacks: true\n    duplicate_callbacks_percent: 100\n"));
  constexpr int kEnquiries = 12;
  std::vector<std::string> ids;
  for (int index = 0; index < kEnquiries; ++index)
    ids.push_back(lead_id_of(enquire(port, R"({"phone":")" + phone(index) + R"(","consent":true})")));
  int out_of_order = 0;
  for (const auto& id : ids) {
    // The end may come first: wait for the rest of the call's callbacks too.
    auto lead = wait_for_first_call_to_end(port, id);
    for (int tries = 0; tries < 300 && sequence_numbers_of(lead).size() < 4; ++tries) {
      std::this_thread::sleep_for(100ms);
      lead = get_lead(port, id);
    }
    BOOST_TEST(lead.at("status").as_string() == "completed", boost::json::serialize(lead));
    BOOST_TEST(lead.at("attempts").as_array()[0].at("status").as_string() == "completed");
    // Each of the four callbacks is in the history once, however often and
    // in whatever order it came.
    BOOST_TEST((sequence_numbers_of(lead) == std::set<int>{0, 1, 2, 3}));
    BOOST_TEST(lead.at("events").as_array().size() == 4u);
    for (const auto& event : lead.at("events").as_array())
      if (event.at("outcome").as_string() == "out_of_order") ++out_of_order;
  }
  // The repeats were delivered and answered 204, and kept out of the history.
  BOOST_TEST(metric_reaching(port, R"(callgate_webhook_events_total{provider="simulator",outcome="duplicate"})",
                             4 * kEnquiries) == 4 * kEnquiries);
  BOOST_TEST(metric_reaching(port, R"(callgate_simulator_requests_total{kind="callback",result="ok"})",
                             8 * kEnquiries) == 8 * kEnquiries);
  BOOST_TEST_MESSAGE(out_of_order << " callbacks came after a later one");
  BOOST_TEST(out_of_order > 0);  // 12 shuffled calls: some order was broken
}

BOOST_AUTO_TEST_CASE(a_seed_makes_a_run_repeatable) {
  // Each run: eight enquiries one after another; how each first call ended, in order.
  const auto run = [](const std::string& seed) {
    const auto port = free_port();
    DaemonProcess daemon(simulator_config(port, "    seed: " + seed +
                                                    "\n    ring_time: {min: 1s, max: 2s}\n"
                                                    "    talk_time: {min: 1s, max: 2s}\n    speed: 20\n"));
    std::vector<std::string> ids, endings;
    for (int index = 0; index < 8; ++index) {
      ids.push_back(lead_id_of(enquire(port, R"({"phone":")" + phone(index) + R"(","consent":true})")));
      wait_for_attempt(port, ids.back());  // the next call is the account's next
    }
    for (const auto& id : ids)
      endings.push_back(
          std::string(wait_for_first_call_to_end(port, id).at("attempts").as_array()[0].at("status").as_string()));
    return endings;
  };
  const auto first = run("7");
  BOOST_TEST(run("7") == first, boost::test_tools::per_element());
  BOOST_TEST(run("8") != first);
}

BOOST_AUTO_TEST_CASE(asking_again_after_the_call_is_a_new_call_and_asking_again_during_it_is_not) {
  // One call a lead (no redial): once it ended, the lead's calls are over.
  const auto port = free_port();
  DaemonProcess daemon(simulator_config(port,
                                        "    seed: 3\n    ring_time: {min: 1s, max: 2s}\n"
                                        "    talk_time: {min: 1s, max: 2s}\n    speed: 20\n",
                                        "  duplicate_window: 10m\ndialer:\n  redial:\n    max_calls: 1\n"));
  const std::string enquiry = R"({"phone":")" + phone(0) + R"(","consent":true})";
  const auto first = lead_id_of(enquire(port, enquiry));
  BOOST_TEST(lead_id_of(enquire(port, enquiry)) == first);  // its call under way: the same lead
  wait_for_first_call_to_end(port, first);
  const auto second = lead_id_of(enquire(port, enquiry));
  BOOST_TEST(second != first);
  wait_for_first_call_to_end(port, second);  // and it is called
  BOOST_TEST(metric_value(port, R"(callgate_calls_placed_total{provider="simulator",outcome="placed"})") == 2);
}

BOOST_AUTO_TEST_CASE(exotel_format_callbacks_go_through_exotel_s_parser_to_the_end_of_each_call) {
  const auto port = free_port();
  DaemonProcess daemon(
      simulator_config(port,
                       "    format: exotel\n    outcomes: {answered: 1, busy: 1, no_answer: 0, failed: 0}\n"
                       "    ring_time: {min: 1s, max: 2s}\n    talk_time: {min: 2s, max: 4s}\n    speed: 20\n"));
  std::vector<std::string> ids;
  for (int index = 0; index < 6; ++index)
    ids.push_back(lead_id_of(enquire(port, R"({"phone":")" + phone(index) + R"(","consent":true})")));
  for (const auto& id : ids) {
    const auto lead = wait_for_first_call_to_end(port, id);
    const std::string ended(lead.at("attempts").as_array()[0].at("status").as_string());
    // Exotel reports no ringing: an answer and an end, or the end alone.
    const auto expected =
        ended == "completed" ? std::vector<std::string>{"in-progress", "completed"} : std::vector<std::string>{"busy"};
    BOOST_TEST(applied_statuses(lead) == expected, boost::test_tools::per_element());
    for (const auto& event : lead.at("events").as_array()) BOOST_TEST(event.at("provider").as_string() == "simulator");
  }
  BOOST_TEST(metric_value(port, R"(callgate_webhook_rejections_total{provider="simulator",reason="bad_signature"})") ==
             -1);
}

BOOST_AUTO_TEST_CASE(the_simulated_account_refuses_what_a_provider_would) {
  const auto port = free_port();
  DaemonProcess daemon(simulator_config(port, "    auth_token: \"sim-token\"\n    speed: 50\n"));
  const std::string basic = "Authorization: Basic c2ltdWxhdG9yOnNpbS10b2tlbg==\r\n";  // simulator:sim-token
  const std::string form = "Content-Type: application/x-www-form-urlencoded\r\n";
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  const auto call = [&](const std::string& url, const std::string& to) {
    return http::encode_form({{"To", to},
                              {"From", "+15005550006"},
                              {"Url", url + "/twiml?leadId=x"},
                              {"StatusCallback", url + "/webhook/simulator?leadId=x"}});
  };

  auto unauthenticated = send(port, "POST", "/simulator/calls", form, call(base, "+919876543210"));
  BOOST_TEST(unauthenticated.status == 401);
  BOOST_TEST(unauthenticated.body.find("20003") != std::string::npos);
  auto wrong_token = send(port, "POST", "/simulator/calls", form + "Authorization: Basic c2ltdWxhdG9yOm5vcGU=\r\n",
                          call(base, "+919876543210"));
  BOOST_TEST(wrong_token.status == 401);
  // It calls back into this daemon only.
  auto elsewhere =
      send(port, "POST", "/simulator/calls", form + basic, call("http://169.254.169.254", "+919876543210"));
  BOOST_TEST(elsewhere.status == 400);
  BOOST_TEST(elsewhere.body.find("21205") != std::string::npos);
  auto lookalike = send(port, "POST", "/simulator/calls", form + basic, call(base + "0", "+919876543210"));
  BOOST_TEST(lookalike.status == 400);
  auto bad_number = send(port, "POST", "/simulator/calls", form + basic, call(base, "12345"));
  BOOST_TEST(bad_number.status == 400);
  BOOST_TEST(bad_number.body.find("21211") != std::string::npos);

  // A call it takes is listed for its number (what settles an ambiguous placement).
  auto taken = send(port, "POST", "/simulator/calls", form + basic, call(base, "+919876543210"));
  BOOST_TEST_REQUIRE(taken.status == 201, taken.body);
  const auto sid = std::string(boost::json::parse(taken.body).at("sid").as_string());
  auto listed = send(port, "GET", "/simulator/calls?To=%2B919876543210", basic);
  BOOST_TEST_REQUIRE(listed.status == 200);
  const auto calls = boost::json::parse(listed.body).at("calls").as_array();
  BOOST_TEST_REQUIRE(calls.size() == 1u);
  BOOST_TEST(calls[0].at("sid").as_string() == sid);
  BOOST_TEST(send(port, "GET", "/simulator/calls?To=%2B14155550100", basic).body == R"({"calls":[]})");
  BOOST_TEST(send(port, "GET", "/simulator/calls", "").status == 401);

  // Its callbacks are signed: a forged one is refused.
  const http::FormFields forged = {{"CallSid", sid}, {"CallStatus", "completed"}, {"SequenceNumber", "9"}};
  const std::string target = "/webhook/simulator?leadId=x";
  auto refused = send(port, "POST", target,
                      form + "X-Twilio-Signature: " +
                          providers::twilio::compute_signature("not-the-token", base + target, forged) + "\r\n",
                      http::encode_form(forged));
  BOOST_TEST(refused.status == 403);
  BOOST_TEST(metric_value(port, R"(callgate_webhook_rejections_total{provider="simulator",reason="bad_signature"})") ==
             1);
}

BOOST_AUTO_TEST_CASE(a_public_url_that_is_not_this_daemon_is_warned_about) {
  // Listening elsewhere than the default public_base_url (127.0.0.1:8080).
  // Both are logged before "listening", which the daemon's start waited for.
  DaemonProcess elsewhere(testing::test_config());
  BOOST_TEST(
      elsewhere.all_output().find(R"("event":"simulator_calls_elsewhere","public_base_url":"http://127.0.0.1:8080")") !=
          std::string::npos,
      elsewhere.all_output());
  const auto port = free_port();
  DaemonProcess here(simulator_config(port, "    speed: 50\n"));
  BOOST_TEST(here.all_output().find(R"("event":"simulator_in_use")") != std::string::npos, here.all_output());
  BOOST_TEST(here.all_output().find("simulator_calls_elsewhere") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(twilio_s_call_flow_takes_the_simulator_s_signature_only_while_the_simulator_is_in_use) {
  const auto twiml = [](unsigned short port, const std::string& token) {
    const auto target = "/twiml?leadId=01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const http::FormFields fields = {{"CallSid", "CA0123456789abcdef0123456789abcdef"}, {"CallStatus", "in-progress"}};
    return send(port, "POST", target,
                "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
                    providers::twilio::compute_signature(token, "http://127.0.0.1:" + std::to_string(port) + target,
                                                         fields) +
                    "\r\n",
                http::encode_form(fields))
        .status;
  };
  const std::string twilio_section =
      "  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: twilio-token, phone_number: "
      "\"+14155550100\"}\n";
  {
    const auto port = free_port();
    DaemonProcess daemon(replaced(simulator_config(port, "    auth_token: sim-token\n"), "telephony:\n",
                                  "telephony:\n" + twilio_section));
    BOOST_TEST(twiml(port, "sim-token") == 200);
    BOOST_TEST(twiml(port, "twilio-token") == 200);
    BOOST_TEST(twiml(port, "other-token") == 403);
  }
  const auto port = free_port();
  auto twilio_only =
      replaced(simulator_config(port, "    auth_token: sim-token\n"), "provider: simulator", "provider: twilio");
  DaemonProcess daemon(replaced(twilio_only, "telephony:\n", "telephony:\n" + twilio_section));
  BOOST_TEST(twiml(port, "twilio-token") == 200);
  BOOST_TEST(twiml(port, "sim-token") == 403);  // a simulator not in use signs nothing
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(enquiry_form)

BOOST_AUTO_TEST_CASE(the_page_shows_the_configured_consent_text_under_a_strict_policy) {
  const auto port = free_port();
  DaemonProcess daemon(simulator_config(port, "    speed: 50\n",
                                        "  consent_text: \"Call me about <b>Acme</b> & \\\"offers\\\"\"\n"
                                        "  default_country_code: \"44\"\n"));
  const auto page = testing::http_get(port, "/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.headers.at("content-type") == "text/html; charset=utf-8");
  const auto& policy = page.headers.at("content-security-policy");
  BOOST_TEST(policy.find("default-src 'none'") != std::string::npos);
  BOOST_TEST(policy.find("script-src 'self'") != std::string::npos);
  BOOST_TEST(policy.find("unsafe") == std::string::npos);
  BOOST_TEST(page.body.find("Call me about &lt;b&gt;Acme&lt;/b&gt; &amp; &quot;offers&quot;") != std::string::npos);
  BOOST_TEST(page.body.find("<b>Acme") == std::string::npos);
  BOOST_TEST(page.body.find("taken as +44") != std::string::npos);
  BOOST_TEST(page.body.find("action=\"/enquire\"") != std::string::npos);
  // Nothing from anywhere else: every script and stylesheet is this origin's.
  BOOST_TEST(page.body.find("http") == std::string::npos);
  BOOST_TEST(page.body.find("<style") == std::string::npos);
  BOOST_TEST(page.body.find("style=") == std::string::npos);
  BOOST_TEST(page.body.find(" on") == std::string::npos);  // no inline event handlers

  const auto script = testing::http_get(port, "/embed.js");
  BOOST_TEST(script.status == 200);
  BOOST_TEST(script.headers.at("content-type") == "text/javascript; charset=utf-8");
  BOOST_TEST(script.body.find(R"(({"consentText":"Call me about <b>Acme</b> & \"offers\"","countryCode":"44"});)") !=
                 std::string::npos,
             script.body.substr(script.body.size() - 200));
  const auto stylesheet = testing::http_get(port, "/embed.css");
  BOOST_TEST(stylesheet.status == 200);
  BOOST_TEST(stylesheet.headers.at("content-type") == "text/css; charset=utf-8");
  BOOST_TEST(stylesheet.body.find(".callgate-error") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_plain_form_post_from_a_browser_gets_a_page_back) {
  const auto port = free_port();
  DaemonProcess daemon(simulator_config(port, "    speed: 50\n"));
  const std::string browser =
      "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html,application/xhtml+xml\r\n";
  auto refused = send(port, "POST", "/enquire", browser, "phone=12&name=%3Cscript%3E&consent=true");
  BOOST_TEST(refused.status == 422);
  BOOST_TEST(refused.headers.at("content-type") == "text/html; charset=utf-8");
  BOOST_TEST(refused.body.find("must have 8 to 15 digits") != std::string::npos, refused.body);
  BOOST_TEST(refused.body.find("value=\"12\" aria-invalid=\"true\"") != std::string::npos);
  BOOST_TEST(refused.body.find("value=\"&lt;script&gt;\"") != std::string::npos);
  BOOST_TEST(refused.body.find("<script>") == std::string::npos);
  auto no_consent = send(port, "POST", "/enquire", browser, "phone=%2B919876543210");
  BOOST_TEST(no_consent.status == 422);
  BOOST_TEST(no_consent.body.find("the visitor must agree to be called") != std::string::npos);

  auto accepted = send(port, "POST", "/enquire", browser, "phone=%2B919876543210&consent=true");
  BOOST_TEST_REQUIRE(accepted.status == 202, accepted.body);
  BOOST_TEST(accepted.body.find("We are calling you now.") != std::string::npos);
  BOOST_TEST(accepted.headers.at("content-security-policy").find("default-src 'none'") != std::string::npos);
  // A script's form post (no Accept: text/html) still gets JSON.
  auto scripted = send(port, "POST", "/enquire", "Content-Type: application/x-www-form-urlencoded\r\n",
                       "phone=%2B919876543211&consent=true");
  BOOST_TEST(scripted.status == 202);
  BOOST_TEST(scripted.headers.at("content-type") == "application/json");
}

BOOST_AUTO_TEST_CASE(an_enquiry_s_status_is_public_and_nothing_else_is) {
  const auto port = free_port();
  DaemonProcess daemon(
      simulator_config(port, "    speed: 50\n", "  cors_allowed_origins: [\"https://shop.example.com\"]\n"));
  const auto id = lead_id_of(enquire(port, R"({"phone":"+919876543210","consent":true,"name":"Asha"})"));
  auto status = send(port, "GET", "/enquire/" + id, "Origin: https://shop.example.com\r\n");
  BOOST_TEST_REQUIRE(status.status == 200);
  const auto body = boost::json::parse(status.body).as_object();
  BOOST_TEST(body.size() == 2u, status.body);  // the id and the status: no number, no name
  BOOST_TEST(body.at("leadId").as_string() == id);
  BOOST_TEST(body.contains("status"));
  BOOST_TEST(status.headers.at("access-control-allow-origin") == "https://shop.example.com");
  BOOST_TEST(status.headers.at("cache-control") == "no-store");
  auto other_origin = send(port, "GET", "/enquire/" + id, "Origin: https://evil.example.com\r\n");
  BOOST_TEST(other_origin.status == 200);
  BOOST_TEST(!other_origin.headers.contains("access-control-allow-origin"));
  BOOST_TEST(send(port, "GET", "/enquire/01ARZ3NDEKTSV4RRFFQ69G5FAV", "").status == 404);
  BOOST_TEST(send(port, "GET", "/enquire/not-an-id", "").status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
