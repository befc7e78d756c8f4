#include "core/lead/call_status.hpp"

#include <array>
#include <utility>

namespace callgate {
namespace {

constexpr std::array<std::pair<CallStatus, std::string_view>, 9> kCallStatusNames = {{
    {CallStatus::queued, "queued"},
    {CallStatus::initiated, "initiated"},
    {CallStatus::ringing, "ringing"},
    {CallStatus::in_progress, "in-progress"},
    {CallStatus::completed, "completed"},
    {CallStatus::busy, "busy"},
    {CallStatus::no_answer, "no-answer"},
    {CallStatus::failed, "failed"},
    {CallStatus::canceled, "canceled"},
}};

constexpr std::array<std::pair<LeadStatus, std::string_view>, 3> kLeadOnlyStatusNames = {{
    {LeadStatus::pending, "pending"},
    {LeadStatus::dialing, "dialing"},
    {LeadStatus::scheduled, "scheduled"},
}};

}  // namespace

std::string_view to_string(CallStatus status) {
  for (const auto& [value, name] : kCallStatusNames)
    if (value == status) return name;
  return "unknown";
}

std::optional<CallStatus> parse_call_status(std::string_view text) {
  for (const auto& [value, name] : kCallStatusNames)
    if (name == text) return value;
  return std::nullopt;
}

LeadStatus lead_status_of(CallStatus status) {
  switch (status) {
    case CallStatus::queued:
      return LeadStatus::queued;
    case CallStatus::initiated:
      return LeadStatus::initiated;
    case CallStatus::ringing:
      return LeadStatus::ringing;
    case CallStatus::in_progress:
      return LeadStatus::in_progress;
    case CallStatus::completed:
      return LeadStatus::completed;
    case CallStatus::busy:
      return LeadStatus::busy;
    case CallStatus::no_answer:
      return LeadStatus::no_answer;
    case CallStatus::failed:
      return LeadStatus::failed;
    case CallStatus::canceled:
      return LeadStatus::canceled;
  }
  return LeadStatus::failed;
}

std::string_view to_string(LeadStatus status) {
  for (const auto& [value, name] : kLeadOnlyStatusNames)
    if (value == status) return name;
  for (const auto& [call_status, name] : kCallStatusNames)
    if (lead_status_of(call_status) == status) return name;
  return "unknown";
}

std::optional<LeadStatus> parse_lead_status(std::string_view text) {
  for (const auto& [value, name] : kLeadOnlyStatusNames)
    if (name == text) return value;
  if (auto call_status = parse_call_status(text)) return lead_status_of(*call_status);
  return std::nullopt;
}

int rank(CallStatus status) {
  switch (status) {
    case CallStatus::queued:
      return 1;
    case CallStatus::initiated:
      return 2;
    case CallStatus::ringing:
      return 3;
    case CallStatus::in_progress:
      return 4;
    default:
      return 5;
  }
}

bool is_terminal(CallStatus status) { return rank(status) == 5; }

}  // namespace callgate
