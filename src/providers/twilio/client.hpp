// Twilio's Create Call: the request callgate sends and how its answer is read.
// Pure: the HTTPS exchange itself belongs to the HTTP client.
#pragma once

#include "providers/place_call_outcome.hpp"
#include "providers/provider.hpp"

namespace callgate::providers::twilio {

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

// GET {api_base}/2010-04-01/Accounts/{sid}/Calls.json?To={to}&PageSize=50:
// the newest calls to the number. Not filtered by StartTime: a call still
// queued has none, and it is exactly the one sought.
http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup);

// 200 {"calls": [{"sid", "to", "status", "date_created" (RFC 2822)}...]}:
// the sought call (pick_sought_call) among those to lookup.to; anything else
// is LookupFailed.
LookupOutcome classify_list_calls_response(const ProviderResponse& response, const CallLookup& lookup);

}  // namespace callgate::providers::twilio
