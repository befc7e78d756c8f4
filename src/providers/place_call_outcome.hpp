// What asking a provider to place a call came to. The dialer decides what
// to do with each; the providers must only classify exactly.
#pragma once

#include "core/lead/lead.hpp"
#include "http/client/exchange.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace callgate::providers {

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

// Settling an Ambiguous placement: does the provider have a call to this
// number, started since the placement, that is not one the lead knows?
struct CallLookup {
  std::string to;                            // E.164
  WallTime since{};                          // when the placement began
  std::vector<std::string> known_call_sids;  // the lead's own calls: not the one sought
};

// The provider has such a call (the earliest, when several).
struct FoundCall {
  std::string call_sid;
  std::string raw_status;            // as the provider wrote it
  std::optional<CallStatus> status;  // none for a word callgate does not know
};

// The provider answered, and lists no such call.
struct NoSuchCall {};

// No answer that settles it (transport failure, error status, unreadable body).
struct LookupFailed {
  std::string reason;
};

using LookupOutcome = std::variant<FoundCall, NoSuchCall, LookupFailed>;

// One call of a provider's list, as read from its answer.
struct ListedCall {
  std::string call_sid;
  std::string raw_status;
  std::optional<CallStatus> status;
  std::optional<WallTime> created;  // none when the provider's date did not parse
};

// The earliest listed call created since lookup.since (a minute early, for
// the two clocks and the provider's whole seconds) that the lead does not
// know already; NoSuchCall when there is none. A call whose date did not
// parse counts as found: better to miss a redial than to ring twice.
LookupOutcome pick_sought_call(const std::vector<ListedCall>& calls, const CallLookup& lookup);

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

}  // namespace callgate::providers
