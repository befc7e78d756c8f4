#include "providers/place_call_outcome.hpp"

#include <charconv>

namespace callgate {

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
    case TransportFailure::before_sending: return Retryable{"request not sent: " + response.failure_reason, {}};
    case TransportFailure::after_sending:
      return Ambiguous{"no complete answer after the request was sent: " + response.failure_reason};
    case TransportFailure::none: break;
  }
  return std::nullopt;
}

}  // namespace callgate
