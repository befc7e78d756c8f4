// The lead events each kind of change makes. Pure: the same lead and change
// give the same event, byte for byte (replays depend on it).
//
// Payloads follow Standard Webhooks' shape, {"type", "timestamp", "data"},
// and hold valid UTF-8 only (what a provider sent that is not UTF-8 is
// replaced), so every receiver's JSON parser reads them.
#pragma once

#include "core/events/lead_event.hpp"
#include "core/lead/lead_update.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace callgate::events {

// Every type an endpoint may ask for (events.endpoints[].types).
const std::vector<std::string_view>& lead_event_types();

LeadEvent lead_created_event(const Lead& lead);
// call.placed when the provider took the call, call.not_placed when it did
// not (the attempt's error says why). attempt_index counts from 0.
LeadEvent call_attempt_event(const Lead& lead, std::size_t attempt_index);
// call.status for an event the state machine applied to the attempt.
LeadEvent call_status_event(const Lead& lead, std::size_t attempt_index, const RecordedEvent& recorded);
// lead.completed: a call was answered and completed.
LeadEvent lead_completed_event(const Lead& lead, WallTime at);
// call.input, recording.updated or transcript.added for an update that
// changed the lead; nothing for a media stream's claim or end.
std::optional<LeadEvent> lead_update_event(const Lead& after, const LeadUpdate& update);
// The dialer's decisions after a call ended.
LeadEvent redial_scheduled_event(std::string_view lead_id, unsigned call, WallTime due, std::string_view reason,
                                 WallTime at);
LeadEvent lead_failed_event(const Lead& lead, std::string_view reason, WallTime at);

}  // namespace callgate::events
