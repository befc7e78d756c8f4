// The statuses of one call attempt, as every provider's webhooks are
// normalized to them, and of a lead as a whole.
#pragma once

#include <optional>
#include <string_view>

namespace callgate {

// Twilio's spelling is the canonical one ("in-progress", "no-answer").
enum class CallStatus { queued, initiated, ringing, in_progress, completed, busy, no_answer, failed, canceled };

// A lead moves pending -> dialing -> the status of its current attempt;
// between attempts it is scheduled.
enum class LeadStatus {
  pending,
  dialing,
  scheduled,
  queued,
  initiated,
  ringing,
  in_progress,
  completed,
  busy,
  no_answer,
  failed,
  canceled
};

std::string_view to_string(CallStatus status);
std::string_view to_string(LeadStatus status);
std::optional<CallStatus> parse_call_status(std::string_view text);
std::optional<LeadStatus> parse_lead_status(std::string_view text);

// A call only moves forward: queued < initiated < ringing < in-progress <
// (any terminal status). Terminal statuses share the top rank.
int rank(CallStatus status);
bool is_terminal(CallStatus status);  // the call's last status: it ended (the dialer then decides on a redial)

LeadStatus lead_status_of(CallStatus status);

}  // namespace callgate
