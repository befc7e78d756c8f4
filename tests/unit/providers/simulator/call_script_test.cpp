// The simulator's scripts: outcomes by weight, times, sequence numbers,
// signatures, shuffling, duplication and the Exotel format, all from a seed.
#include "providers/simulator/call_script.hpp"
#include "providers/simulator/settings.hpp"

#include "core/crypto.hpp"
#include "http/form/form_codec.hpp"
#include "providers/exotel/webhook.hpp"
#include "providers/twilio/signature.hpp"
#include "providers/twilio/webhook.hpp"

#include "simulated_call.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

using namespace callgate;
using namespace callgate::providers;
using namespace callgate::providers::simulator;
using std::chrono::milliseconds;

namespace {

SimulatedCall a_call() { return testing::a_simulated_call(); }

SimulatorSettings only(SimulatedOutcome outcome) {
  SimulatorSettings config;
  config.auth_token = "sim-test-token";  // the daemon draws one at start; tests name theirs
  config.outcomes = {0, 0, 0, 0};
  switch (outcome) {
    case SimulatedOutcome::answered:
      config.outcomes.answered = 1;
      break;
    case SimulatedOutcome::busy:
      config.outcomes.busy = 1;
      break;
    case SimulatedOutcome::no_answer:
      config.outcomes.no_answer = 1;
      break;
    case SimulatedOutcome::failed:
      config.outcomes.failed = 1;
      break;
  }
  return config;
}

http::FormFields fields_of(const ScriptStep& step) { return http::parse_form(step.request.body).value(); }

std::string header(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers)
    if (key == name) return value;
  return {};
}

std::string field(const ScriptStep& step, std::string_view name) {
  return std::string(http::form_value(fields_of(step), name).value_or(""));
}

std::vector<std::string> statuses(const CallScript& script) {
  std::vector<std::string> out;
  for (const auto& step : script.steps)
    out.push_back((step.kind == StepKind::call_flow ? "fetch " : "") + std::string(to_string(step.status)));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulator_call_script)

BOOST_AUTO_TEST_CASE(the_same_seed_writes_the_same_call_and_other_seeds_other_calls) {
  const SimulatorSettings config;
  const auto first = write_call_script(config, a_call(), 42);
  const auto again = write_call_script(config, a_call(), 42);
  BOOST_TEST_REQUIRE(first.steps.size() == again.steps.size());
  for (std::size_t index = 0; index < first.steps.size(); ++index) {
    BOOST_TEST(first.steps[index].at.count() == again.steps[index].at.count());
    BOOST_TEST(first.steps[index].request.body == again.steps[index].request.body);
  }
  std::set<std::int64_t> rings;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) rings.insert(write_call_script(config, a_call(), seed).ring.count());
  BOOST_TEST(rings.size() > 10u);
}

BOOST_AUTO_TEST_CASE(outcomes_follow_the_configured_weights) {
  const SimulatorSettings config;  // 60 / 15 / 20 / 5
  std::map<SimulatedOutcome, int> counts;
  std::mt19937_64 random(7);
  constexpr int kCalls = 20'000;
  for (int call = 0; call < kCalls; ++call) ++counts[pick_outcome(config.outcomes, random)];
  auto share = [&](SimulatedOutcome outcome) { return 100.0 * counts[outcome] / kCalls; };
  BOOST_TEST(std::abs(share(SimulatedOutcome::answered) - 60) < 1.5, share(SimulatedOutcome::answered));
  BOOST_TEST(std::abs(share(SimulatedOutcome::busy) - 15) < 1.5, share(SimulatedOutcome::busy));
  BOOST_TEST(std::abs(share(SimulatedOutcome::no_answer) - 20) < 1.5, share(SimulatedOutcome::no_answer));
  BOOST_TEST(std::abs(share(SimulatedOutcome::failed) - 5) < 1.0, share(SimulatedOutcome::failed));

  // A weight of 0 never comes up.
  SimulatorOutcomeWeights busy_only{0, 1, 0, 0};
  for (int call = 0; call < 1'000; ++call)
    BOOST_TEST_REQUIRE((pick_outcome(busy_only, random) == SimulatedOutcome::busy));
}

BOOST_AUTO_TEST_CASE(an_answered_call_rings_fetches_its_flow_talks_and_completes_in_twilio_s_format) {
  auto config = only(SimulatedOutcome::answered);
  config.ring_min = config.ring_max = milliseconds(3'000);
  config.talk_min = milliseconds(61'000);
  config.talk_max = milliseconds(62'000);
  const auto call = a_call();
  const auto script = write_call_script(config, call, 1);
  BOOST_TEST((script.outcome == SimulatedOutcome::answered));
  BOOST_TEST(statuses(script) ==
                 (std::vector<std::string>{"initiated", "ringing", "fetch in-progress", "in-progress", "completed"}),
             boost::test_tools::per_element());
  BOOST_TEST(script.steps[0].at.count() == 200);
  BOOST_TEST(script.steps[1].at.count() == 1'000);
  BOOST_TEST(script.steps[2].at.count() == 4'000);  // ringing, then 3 s of ring
  BOOST_TEST(script.steps[3].at.count() == 4'000);
  BOOST_TEST(script.steps[4].at.count() == 4'000 + script.talk.count());

  // Sequence numbers count the callbacks as they happen; the call flow is not one.
  std::vector<std::string> sequence;
  for (const auto& step : script.steps)
    if (step.kind == StepKind::callback) sequence.push_back(field(step, "SequenceNumber"));
  BOOST_TEST(sequence == (std::vector<std::string>{"0", "1", "2", "3"}), boost::test_tools::per_element());

  const auto& completed = script.steps[4];
  const auto talked = (script.talk.count() + 500) / 1000;
  BOOST_TEST(field(completed, "CallDuration") == std::to_string(talked));
  BOOST_TEST(field(completed, "Duration") == "2");  // 61 or 62 s: billed as whole minutes
  BOOST_TEST(field(completed, "SipResponseCode") == "200");
  BOOST_TEST(field(completed, "CallSid") == call.sid);
  BOOST_TEST(field(completed, "To") == call.to);
  BOOST_TEST(field(completed, "AccountSid") == std::string(kAccountSid));
  BOOST_TEST(field(completed, "CallbackSource") == "call-progress-events");
  BOOST_TEST((providers::twilio::parse_rfc2822_time(field(completed, "Timestamp")).value() ==
              std::chrono::time_point_cast<std::chrono::seconds>(call.created + completed.at)));

  // Every request is signed with the auth token over the URL it goes to.
  for (const auto& step : script.steps) {
    const auto& url = step.kind == StepKind::call_flow ? call.call_flow_url : call.status_callback;
    BOOST_TEST(step.request.url == url);
    BOOST_TEST(header(step.request, "Content-Type") == "application/x-www-form-urlencoded");
    BOOST_TEST(providers::twilio::is_valid_signature(config.auth_token, url, fields_of(step),
                                                     header(step.request, "X-Twilio-Signature")));
    BOOST_TEST(!providers::twilio::is_valid_signature("another-token", url, fields_of(step),
                                                      header(step.request, "X-Twilio-Signature")));
  }
  // And Twilio's own parser reads each callback.
  for (const auto& step : script.steps) {
    if (step.kind != StepKind::callback) continue;
    auto parsed = providers::twilio::parse_status_callback(fields_of(step), "L1", "");
    BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(parsed));
    BOOST_TEST((std::get<CallEvent>(parsed).status == step.status));
  }
}

BOOST_AUTO_TEST_CASE(busy_unanswered_and_failed_calls_end_as_a_carrier_ends_them) {
  const std::map<SimulatedOutcome, std::vector<std::string>> expected = {
      {SimulatedOutcome::busy, {"initiated", "ringing", "busy"}},
      {SimulatedOutcome::no_answer, {"initiated", "ringing", "no-answer"}},
      {SimulatedOutcome::failed, {"initiated", "failed"}},
  };
  const std::map<SimulatedOutcome, std::string> sip = {
      {SimulatedOutcome::busy, "486"}, {SimulatedOutcome::no_answer, "487"}, {SimulatedOutcome::failed, "500"}};
  for (const auto& [outcome, sequence] : expected) {
    const auto script = write_call_script(only(outcome), a_call(), 3);
    BOOST_TEST(statuses(script) == sequence, boost::test_tools::per_element());
    BOOST_TEST(field(script.steps.back(), "CallDuration") == "0");
    BOOST_TEST(field(script.steps.back(), "SipResponseCode") == sip.at(outcome));
    BOOST_TEST(field(script.steps.back(), "Duration").empty());
  }
}

BOOST_AUTO_TEST_CASE(speed_divides_every_delay) {
  auto config = only(SimulatedOutcome::answered);
  const auto slow = write_call_script(config, a_call(), 9);
  config.speed = 10;
  const auto fast = write_call_script(config, a_call(), 9);
  BOOST_TEST_REQUIRE(slow.steps.size() == fast.steps.size());
  for (std::size_t index = 0; index < slow.steps.size(); ++index)
    BOOST_TEST(fast.steps[index].at.count() == slow.steps[index].at.count() / 10);
  // The call itself lasts as long: only the simulator's clock runs faster.
  BOOST_TEST(field(fast.steps.back(), "CallDuration") == field(slow.steps.back(), "CallDuration"));
}

BOOST_AUTO_TEST_CASE(shuffled_callbacks_keep_their_contents_and_times_but_not_their_order) {
  auto config = only(SimulatedOutcome::answered);
  bool some_out_of_order = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    config.shuffle_callbacks = false;
    const auto in_order = write_call_script(config, a_call(), seed);
    config.shuffle_callbacks = true;
    const auto shuffled = write_call_script(config, a_call(), seed);
    BOOST_TEST_REQUIRE(in_order.steps.size() == shuffled.steps.size());
    std::multiset<std::string> bodies_before, bodies_after;
    std::vector<std::string> sequence;
    for (std::size_t index = 0; index < in_order.steps.size(); ++index) {
      BOOST_TEST(in_order.steps[index].at.count() == shuffled.steps[index].at.count());
      BOOST_TEST((in_order.steps[index].kind == shuffled.steps[index].kind));
      bodies_before.insert(in_order.steps[index].request.body);
      bodies_after.insert(shuffled.steps[index].request.body);
      if (shuffled.steps[index].kind == StepKind::callback)
        sequence.push_back(field(shuffled.steps[index], "SequenceNumber"));
    }
    BOOST_TEST((bodies_before == bodies_after));
    if (!std::is_sorted(sequence.begin(), sequence.end())) some_out_of_order = true;
  }
  BOOST_TEST(some_out_of_order);
}

BOOST_AUTO_TEST_CASE(duplicated_callbacks_come_again_a_little_later_with_an_idempotency_token) {
  auto config = only(SimulatedOutcome::busy);
  config.duplicate_callbacks_percent = 100;
  const auto script = write_call_script(config, a_call(), 5);
  BOOST_TEST_REQUIRE(script.steps.size() == 6u);  // three callbacks, each twice
  std::map<std::string, std::vector<const ScriptStep*>> by_body;
  for (const auto& step : script.steps) by_body[step.request.body].push_back(&step);
  BOOST_TEST(by_body.size() == 3u);
  for (const auto& [body, deliveries] : by_body) {
    BOOST_TEST_REQUIRE(deliveries.size() == 2u);
    BOOST_TEST(!deliveries[0]->repeated);
    BOOST_TEST(deliveries[1]->repeated);
    BOOST_TEST(deliveries[1]->at.count() == deliveries[0]->at.count() + 300);
    BOOST_TEST(header(deliveries[0]->request, "I-Twilio-Idempotency-Token").empty());
    BOOST_TEST(!header(deliveries[1]->request, "I-Twilio-Idempotency-Token").empty());
  }
  config.duplicate_callbacks_percent = 0;
  BOOST_TEST(write_call_script(config, a_call(), 5).steps.size() == 3u);
}

BOOST_AUTO_TEST_CASE(exotel_format_sends_an_answered_and_a_terminal_callback_as_signed_json) {
  auto config = only(SimulatedOutcome::answered);
  config.format = SimulatorFormat::exotel;
  const auto script = write_call_script(config, a_call(), 11);
  BOOST_TEST(statuses(script) == (std::vector<std::string>{"in-progress", "completed"}),
             boost::test_tools::per_element());
  for (const auto& step : script.steps) {
    BOOST_TEST(header(step.request, "Content-Type") == "application/json");
    BOOST_TEST(providers::exotel::is_valid_request_signature(
        config.auth_token, "POST", step.request.url, step.request.body, header(step.request, "X-Exotel-Signature")));
    const auto fields = providers::exotel::callback_fields("application/json", step.request.body);
    BOOST_TEST_REQUIRE(fields.has_value());
    auto parsed = providers::exotel::parse_status_callback(*fields, "L1");
    BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(parsed));
    const auto& event = std::get<CallEvent>(parsed);
    BOOST_TEST((event.status == step.status));
    BOOST_TEST(event.call_sid == a_call().sid);
  }
  const auto terminal =
      providers::exotel::callback_fields("application/json", script.steps.back().request.body).value();
  BOOST_TEST(providers::exotel::field(terminal, "ConversationDuration").value_or("") ==
             std::to_string((script.talk.count() + 500) / 1000));

  config = only(SimulatedOutcome::no_answer);
  config.format = SimulatorFormat::exotel;
  BOOST_TEST(statuses(write_call_script(config, a_call(), 11)) == (std::vector<std::string>{"no-answer"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(times_are_written_as_each_provider_writes_them) {
  const WallTime moment{std::chrono::seconds(1'796'160'982)};  // 2026-12-01 21:36:22 UTC
  BOOST_TEST(format_rfc2822(moment) == "Tue, 01 Dec 2026 21:36:22 +0000");
  BOOST_TEST((providers::twilio::parse_rfc2822_time(format_rfc2822(moment)).value() == moment));
  BOOST_TEST(format_exotel_time(moment) == "2026-12-02 03:06:22");  // India, 5:30 ahead
  BOOST_TEST((providers::exotel::parse_exotel_time(format_exotel_time(moment)).value() == moment));
}

BOOST_AUTO_TEST_CASE(call_sids_look_like_twilio_s) {
  std::mt19937_64 random(1);
  const auto sid = new_call_sid(random);
  BOOST_TEST(sid.size() == 34u);
  BOOST_TEST(sid.starts_with("CA"));
  BOOST_TEST(sid.find_first_not_of("0123456789abcdef", 2) == std::string::npos);
  BOOST_TEST(new_call_sid(random) != sid);
}

BOOST_AUTO_TEST_SUITE_END()
