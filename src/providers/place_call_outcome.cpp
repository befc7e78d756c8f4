#include "providers/place_call_outcome.hpp"

#include <algorithm>

#include <charconv>

namespace callgate::providers {

std::optional<std::chrono::seconds> parse_retry_after_seconds(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  unsigned seconds = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  // A day is already past any sensible wait; more is a broken header.
  if (seconds > 86'400) seconds = 86'400;
  return std::chrono::seconds(seconds);
}

std::optional<PlaceCallOutcome> outcome_of_transport_failure(const ProviderResponse& response) {
  switch (response.failure) {
    case TransportFailure::before_sending:
      return Retryable{"request not sent: " + response.failure_reason, {}};
    case TransportFailure::after_sending:
      return Ambiguous{"no complete answer after the request was sent: " + response.failure_reason};
    case TransportFailure::none:
      break;
  }
  return std::nullopt;
}

LookupOutcome pick_sought_call(const std::vector<ListedCall>& calls, const CallLookup& lookup) {
  const auto earliest_allowed = lookup.since - std::chrono::minutes(1);
  const ListedCall* sought = nullptr;
  for (const auto& call : calls) {
    if (call.call_sid.empty()) continue;
    if (std::find(lookup.known_call_sids.begin(), lookup.known_call_sids.end(), call.call_sid) !=
        lookup.known_call_sids.end())
      continue;
    if (call.created && *call.created < earliest_allowed) continue;
    if (!call.created) return FoundCall{call.call_sid, call.raw_status, call.status};
    if (!sought || *call.created < *sought->created) sought = &call;
  }
  if (!sought) return NoSuchCall{};
  return FoundCall{sought->call_sid, sought->raw_status, sought->status};
}

}  // namespace callgate::providers
