#include "core/lead/lead_state_machine.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <numeric>
#include <sstream>

using namespace callgate;
using namespace std::chrono_literals;

namespace {

const WallTime t0 = WallTime(std::chrono::seconds(1'800'000'000));

Lead lead_with_attempts(std::initializer_list<const char*> call_sids) {
  Lead lead;
  lead.id = "lead-1";
  lead.status = LeadStatus::dialing;
  for (const char* sid : call_sids) {
    Attempt attempt;
    attempt.provider = "twilio";
    attempt.call_sid = sid;
    attempt.created = t0;
    lead.attempts.push_back(attempt);
  }
  return lead;
}

CallEvent event(const char* sid, CallStatus status, std::optional<std::uint64_t> sequence) {
  CallEvent e;
  e.provider = "twilio";
  e.call_sid = sid;
  e.status = status;
  e.raw_status = std::string(to_string(status));
  e.sequence_number = sequence;
  return e;
}

constexpr CallStatus kAll[] = {CallStatus::queued,      CallStatus::initiated, CallStatus::ringing,
                               CallStatus::in_progress, CallStatus::completed, CallStatus::busy,
                               CallStatus::no_answer,   CallStatus::failed,    CallStatus::canceled};

}  // namespace

BOOST_AUTO_TEST_SUITE(lead_state_machine)

// Every (status the attempt has, status that arrives) pair.
// A = applied, O = out of order (history only), X = anomaly (history only).
BOOST_AUTO_TEST_CASE(every_pair_of_current_and_incoming_status) {
  //                          incoming: queued initiated ringing in-progress completed busy no-answer failed canceled
  const std::pair<std::optional<CallStatus>, std::string> table[] = {
      {std::nullopt, "AAAAAAAAA"},         {CallStatus::queued, "OAAAAAAAA"},      {CallStatus::initiated, "OOAAAAAAA"},
      {CallStatus::ringing, "OOOAAAAAA"},  {CallStatus::in_progress, "OOOOAAAAA"}, {CallStatus::completed, "OOOOOXXXX"},
      {CallStatus::busy, "OOOOXOXXX"},     {CallStatus::no_answer, "OOOOXXOXX"},   {CallStatus::failed, "OOOOXXXOX"},
      {CallStatus::canceled, "OOOOXXXXO"},
  };
  for (const auto& [current, row] : table) {
    for (std::size_t column = 0; column < 9; ++column) {
      const CallStatus incoming = kAll[column];
      Lead lead = lead_with_attempts({"CA1"});
      if (current) BOOST_TEST_REQUIRE((apply_call_event(lead, event("CA1", *current, 0), t0) == EventOutcome::applied));
      const LeadStatus status_before = lead.status;

      const auto outcome = apply_call_event(lead, event("CA1", incoming, 1), t0 + 1s);
      std::ostringstream label;
      label << (current ? to_string(*current) : "none") << " then " << to_string(incoming);
      const char expected = row[column];
      const EventOutcome expected_outcome = expected == 'A'   ? EventOutcome::applied
                                            : expected == 'O' ? EventOutcome::out_of_order
                                                              : EventOutcome::anomaly;
      BOOST_TEST((outcome == expected_outcome), label.str() << ": got " << to_string(outcome));
      // Applied moves both the attempt and the lead; anything else moves neither.
      const CallStatus attempt_now = *lead.attempts[0].status;
      BOOST_TEST((attempt_now == (expected == 'A' ? incoming : *current)), label.str());
      BOOST_TEST((lead.status == (expected == 'A' ? lead_status_of(incoming) : status_before)), label.str());
      // Everything that is not a duplicate is in the history, with its outcome.
      BOOST_TEST(lead.events.size() == (current ? 2u : 1u), label.str());
      BOOST_TEST((lead.events.back().outcome == expected_outcome), label.str());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_same_event_twice_is_applied_and_recorded_once) {
  Lead lead = lead_with_attempts({"CA1"});
  BOOST_TEST((apply_call_event(lead, event("CA1", CallStatus::ringing, 1), t0) == EventOutcome::applied));
  BOOST_TEST((apply_call_event(lead, event("CA1", CallStatus::ringing, 1), t0) == EventOutcome::duplicate));
  BOOST_TEST(lead.events.size() == 1u);

  // A Twilio retry with an idempotency token already seen.
  auto first = event("CA1", CallStatus::in_progress, 2);
  first.idempotency_token = "tok-9";
  auto retry = first;
  retry.sequence_number = 3;  // even if something else differs
  BOOST_TEST((apply_call_event(lead, first, t0) == EventOutcome::applied));
  BOOST_TEST((apply_call_event(lead, retry, t0) == EventOutcome::duplicate));

  // Exotel sends no sequence numbers: the status tells events apart.
  auto terminal = event("CA1", CallStatus::completed, std::nullopt);
  BOOST_TEST((apply_call_event(lead, terminal, t0) == EventOutcome::applied));
  BOOST_TEST((apply_call_event(lead, terminal, t0) == EventOutcome::duplicate));
  BOOST_TEST(lead.events.size() == 3u);

  // A duplicated anomaly is still one anomaly.
  BOOST_TEST((apply_call_event(lead, event("CA1", CallStatus::busy, 9), t0) == EventOutcome::anomaly));
  BOOST_TEST((apply_call_event(lead, event("CA1", CallStatus::busy, 9), t0) == EventOutcome::duplicate));
  BOOST_TEST(lead.events.size() == 4u);
  BOOST_TEST((lead.status == LeadStatus::completed));
}

BOOST_AUTO_TEST_CASE(an_unknown_call_sid_leaves_the_lead_alone) {
  Lead lead = lead_with_attempts({"CA1"});
  BOOST_TEST((apply_call_event(lead, event("CA404", CallStatus::ringing, 1), t0) == EventOutcome::unknown_call));
  BOOST_TEST((apply_call_event(lead, event("", CallStatus::ringing, 1), t0) == EventOutcome::unknown_call));
  BOOST_TEST(lead.events.empty());
  BOOST_TEST((lead.status == LeadStatus::dialing));
}

BOOST_AUTO_TEST_CASE(only_the_latest_attempt_moves_the_lead) {
  Lead lead = lead_with_attempts({"CA1", "CA2"});
  BOOST_TEST((apply_call_event(lead, event("CA2", CallStatus::ringing, 1), t0) == EventOutcome::applied));
  BOOST_TEST((lead.status == LeadStatus::ringing));
  // The first attempt's late busy is applied to that attempt only.
  BOOST_TEST((apply_call_event(lead, event("CA1", CallStatus::busy, 3), t0) == EventOutcome::applied));
  BOOST_TEST((*lead.attempts[0].status == CallStatus::busy));
  BOOST_TEST((lead.status == LeadStatus::ringing));
}

// Real sequences as providers send them, in every order they could arrive.
BOOST_AUTO_TEST_CASE(every_arrival_order_of_an_answered_call_ends_the_same) {
  auto completed = event("CA1", CallStatus::completed, 3);
  completed.duration_seconds = 42;
  completed.recording_url = "https://api.twilio.com/recordings/RE1";
  completed.answered_by = "human";
  completed.event_time = t0 + 50s;
  auto answered = event("CA1", CallStatus::in_progress, 2);
  answered.event_time = t0 + 8s;
  const std::vector<CallEvent> sequence = {event("CA1", CallStatus::initiated, 0), event("CA1", CallStatus::ringing, 1),
                                           answered, completed};
  std::vector<std::size_t> order(sequence.size());
  std::iota(order.begin(), order.end(), 0);
  int orders = 0;
  do {
    Lead lead = lead_with_attempts({"CA1"});
    for (const auto index : order) apply_call_event(lead, sequence[index], t0 + 60s);
    for (const auto index : order)  // and every one delivered twice
      BOOST_TEST((apply_call_event(lead, sequence[index], t0 + 61s) == EventOutcome::duplicate));
    const auto& attempt = lead.attempts[0];
    BOOST_TEST((lead.status == LeadStatus::completed));
    BOOST_TEST((*attempt.status == CallStatus::completed));
    BOOST_TEST(lead.events.size() == 4u);
    BOOST_TEST((attempt.answered == t0 + 8s));
    BOOST_TEST((attempt.ended == t0 + 50s));
    BOOST_TEST(attempt.duration_seconds.value_or(-1) == 42);
    BOOST_TEST(attempt.recording_url == "https://api.twilio.com/recordings/RE1");
    BOOST_TEST(attempt.answered_by == "human");
    ++orders;
  } while (std::next_permutation(order.begin(), order.end()));
  BOOST_TEST(orders == 24);
}

BOOST_AUTO_TEST_CASE(every_arrival_order_of_a_busy_call_ends_busy_and_unanswered) {
  const std::vector<CallEvent> sequence = {event("CA1", CallStatus::queued, 0), event("CA1", CallStatus::initiated, 1),
                                           event("CA1", CallStatus::ringing, 2), event("CA1", CallStatus::busy, 3)};
  std::vector<std::size_t> order(sequence.size());
  std::iota(order.begin(), order.end(), 0);
  do {
    Lead lead = lead_with_attempts({"CA1"});
    for (const auto index : order) apply_call_event(lead, sequence[index], t0);
    BOOST_TEST((lead.status == LeadStatus::busy));
    BOOST_TEST(!lead.attempts[0].answered.has_value());
    BOOST_TEST(lead.events.size() == 4u);
  } while (std::next_permutation(order.begin(), order.end()));
}

BOOST_AUTO_TEST_CASE(status_names_round_trip) {
  for (const auto status : kAll) BOOST_TEST((parse_call_status(to_string(status)) == status));
  BOOST_TEST(to_string(CallStatus::in_progress) == "in-progress");
  BOOST_TEST(to_string(CallStatus::no_answer) == "no-answer");
  BOOST_TEST(!parse_call_status("answered").has_value());
  for (const char* name : {"pending", "dialing", "scheduled", "ringing", "completed", "no-answer"})
    BOOST_TEST(to_string(*parse_lead_status(name)) == name);
  BOOST_TEST(!parse_lead_status("done").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
