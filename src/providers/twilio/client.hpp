// Twilio's Create Call: the request callgate sends and how its answer is read.
// Pure: the HTTPS exchange itself belongs to the HTTP client.
#pragma once

#include "providers/place_call_outcome.hpp"
#include "providers/provider.hpp"

namespace callgate::twilio {

// POST {api_base}/2010-04-01/Accounts/{sid}/Calls.json, Basic auth, the
// form fields in a fixed order: To, From, Url, StatusCallback,
// StatusCallbackMethod, StatusCallbackEvent (x4), Record, then Timeout,
// TimeLimit and MachineDetection when configured.
http::ClientRequest build_create_call_request(const Config& config, const providers::CallOrder& order);

// The TwiML URL Twilio fetches when the call is answered: call_flow_url, or
// {public_base_url}/twiml, with leadId added to its query.
std::string call_flow_url_for(const Config& config, std::string_view lead_id);

// Reads the answer to POST /2010-04-01/Accounts/{sid}/Calls.json:
// 201 {"sid": "CA...", "status": "queued"} is Placed; 429 and 5xx are
// Retryable; other 4xx are Rejected with Twilio's own code and message
// ({"code": 21211, "message": ...}); a failure after the request was sent,
// or a success without a call sid, is Ambiguous.
PlaceCallOutcome classify_create_call_response(const ProviderResponse& response);

}  // namespace callgate::twilio
