#include "core/lead/lead_state_machine.hpp"

namespace callgate {

std::string_view to_string(EventOutcome outcome) {
  switch (outcome) {
    case EventOutcome::applied:
      return "applied";
    case EventOutcome::out_of_order:
      return "out_of_order";
    case EventOutcome::duplicate:
      return "duplicate";
    case EventOutcome::anomaly:
      return "anomaly";
    case EventOutcome::unknown_call:
      return "unknown_call";
  }
  return "unknown";
}

Attempt* find_attempt(Lead& lead, std::string_view call_sid) {
  if (call_sid.empty()) return nullptr;
  for (auto& attempt : lead.attempts)
    if (attempt.call_sid == call_sid) return &attempt;
  return nullptr;
}

namespace {

bool is_duplicate(const Lead& lead, const CallEvent& event) {
  for (const auto& recorded : lead.events) {
    const auto& seen = recorded.event;
    if (seen.call_sid != event.call_sid) continue;
    if (!event.idempotency_token.empty() && seen.idempotency_token == event.idempotency_token) return true;
    // With sequence numbers, the number tells events apart; without (Exotel),
    // the status does: a provider sends each status once per call.
    if (seen.status == event.status && seen.sequence_number == event.sequence_number) return true;
  }
  return false;
}

// Fields that only fill in: a later event never erases what an earlier one told.
void merge_details(Attempt& attempt, const CallEvent& event, WallTime when) {
  if (event.status == CallStatus::in_progress && !attempt.answered) attempt.answered = when;
  if (event.duration_seconds) attempt.duration_seconds = event.duration_seconds;
  if (!event.recording_url.empty()) attempt.recording_url = event.recording_url;
  if (!event.answered_by.empty()) attempt.answered_by = event.answered_by;
  if (event.sip_code) attempt.sip_code = event.sip_code;
}

}  // namespace

EventOutcome apply_call_event(Lead& lead, const CallEvent& event, WallTime received) {
  Attempt* attempt = find_attempt(lead, event.call_sid);
  if (attempt == nullptr) return EventOutcome::unknown_call;
  if (is_duplicate(lead, event)) return EventOutcome::duplicate;

  const WallTime when = event.event_time.value_or(received);
  EventOutcome outcome = EventOutcome::applied;
  if (attempt->status && is_terminal(*attempt->status)) {
    // The same terminal status again agrees with what is known; another one
    // contradicts it (completed after busy) and is flagged.
    outcome = is_terminal(event.status) && event.status != *attempt->status ? EventOutcome::anomaly
                                                                            : EventOutcome::out_of_order;
    // A late in-progress still tells when the call was answered.
    if (event.status == CallStatus::in_progress && !attempt->answered) attempt->answered = when;
  } else if (attempt->status && rank(event.status) <= rank(*attempt->status)) {
    outcome = EventOutcome::out_of_order;
    if (event.status == CallStatus::in_progress && !attempt->answered) attempt->answered = when;
  } else {
    attempt->status = event.status;
    merge_details(*attempt, event, when);
    if (is_terminal(event.status)) attempt->ended = when;
    if (attempt == &lead.attempts.back()) lead.status = lead_status_of(event.status);
  }

  lead.events.push_back({event, received, outcome});
  lead.updated = received;
  return outcome;
}

}  // namespace callgate
