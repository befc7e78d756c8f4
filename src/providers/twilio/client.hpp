// Twilio's Create Call: the request callgate sends and how its answer is read.
// Pure: the HTTPS exchange itself belongs to the HTTP client.
#pragma once

#include "providers/place_call_outcome.hpp"

namespace callgate::twilio {

// Reads the answer to POST /2010-04-01/Accounts/{sid}/Calls.json:
// 201 {"sid": "CA...", "status": "queued"} is Placed; 429 and 5xx are
// Retryable; other 4xx are Rejected with Twilio's own code and message
// ({"code": 21211, "message": ...}); a failure after the request was sent,
// or a success without a call sid, is Ambiguous.
PlaceCallOutcome classify_create_call_response(const ProviderResponse& response);

}  // namespace callgate::twilio
