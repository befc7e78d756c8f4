// What asking a provider to place a call came to. The dialer decides what
// to do with each; the providers must only classify exactly.
#pragma once

#include "http/client/exchange.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <variant>

namespace callgate {

// The provider took the request and gave the call an id.
struct Placed {
  std::string call_sid;
  std::string status;  // the provider's first status, e.g. "queued"
};

// Nothing was placed and trying again is safe: the request never left, the
// provider said it was overloaded (429) or failed (5xx).
struct Retryable {
  std::string reason;
  std::optional<std::chrono::seconds> retry_after;  // from Retry-After, when given
};

// The request may have reached the provider and placed a call (a timeout or
// reset after the body was written, a 2xx without a call id). Dialing again
// blindly could ring the customer twice.
struct Ambiguous {
  std::string reason;
};

// The provider refused for good (invalid number, bad credentials, no
// funds): retrying the same request cannot help.
struct Rejected {
  int code = 0;  // the provider's error code (Twilio 21211), else the HTTP status
  std::string message;
  std::string more_info;  // where the provider explains the code (Twilio's more_info), if given
};

using PlaceCallOutcome = std::variant<Placed, Retryable, Ambiguous, Rejected>;

// A provider's answer is what the HTTP client brought back.
using TransportFailure = http::TransportFailure;
using ProviderResponse = http::ClientResponse;

// Retry-After as delay-seconds (the form providers send); nothing for an
// HTTP-date or junk.
std::optional<std::chrono::seconds> parse_retry_after_seconds(std::string_view value);

// What an exchange that never got an answer comes to, for every provider:
// Retryable when the request did not leave, Ambiguous when it may have
// arrived; nothing when an answer came (the provider reads it).
std::optional<PlaceCallOutcome> outcome_of_transport_failure(const ProviderResponse& response);

}  // namespace callgate
