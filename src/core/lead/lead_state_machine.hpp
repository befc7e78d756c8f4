// How a call event changes a lead. Pure: no clock (the receive time is a
// parameter), no I/O. Every store applies events through this one function,
// inside whatever makes its read-check-write atomic.
//
// Rules:
// - A status only moves an attempt forward by rank; an older one arriving
//   late (ringing after in-progress) is kept in the history, not applied.
// - Terminal statuses are final for their attempt. A different terminal
//   status afterwards (completed after busy) is an anomaly: kept, not applied.
// - The same event twice (same call sid, status and sequence number, or a
//   retry carrying an idempotency token already seen) is applied once and
//   recorded once.
// - Only the latest attempt's events move the lead's status.
// - An event for a call sid no attempt has is unknown_call; the lead is
//   left untouched and the caller keeps the event as an orphan.
#pragma once

#include "core/lead/lead.hpp"

namespace callgate {

EventOutcome apply_call_event(Lead& lead, const CallEvent& event, WallTime received);

// Where a given call sid's attempt is, or nothing.
Attempt* find_attempt(Lead& lead, std::string_view call_sid);

}  // namespace callgate
