// Exotel's Connect-number-to-flow: the request callgate sends and how its
// answer is read. Pure: the HTTPS exchange belongs to the HTTP client.
#pragma once

#include "providers/exotel/settings.hpp"
#include "providers/place_call_outcome.hpp"
#include "providers/provider.hpp"

namespace callgate::providers::exotel {

// POST {api_base}/v1/Accounts/{sid}/Calls/connect.json, Basic auth (API key
// : token), form fields From, CallerId, Url, CallType=trans, StatusCallback,
// StatusCallbackEvents[0]=terminal, StatusCallbackEvents[1]=answered,
// StatusCallbackContentType=application/json, CustomField, Record, then
// TimeLimit and TimeOut when configured.
http::ClientRequest build_connect_call_request(const Config& config, const providers::CallOrder& order);

// The flow Exotel runs once the customer answers: call_flow_url, else
// http://my.exotel.com/{sid}/exoml/start_voice/{flow_id}.
std::string flow_url(const ExotelSettings& exotel);

// The status callback URL callgate hands Exotel: /webhook/exotel with the
// lead id, the callback token (when configured) in the query, and the Basic
// credentials (when configured) in the authority.
std::string status_callback_url(const Config& config, std::string_view lead_id);

// {"leadId":"..."}: at most 128 characters, as Exotel allows.
std::string custom_field_for(std::string_view lead_id);

// 2xx {"Call": {"Sid": ..., "Status": ...}} (or the XML <TwilioResponse>
// form) is Placed; 429 and 5xx are Retryable; other 4xx (402 for plan
// limits included) are Rejected with RestException's Code and Message when
// given; a failure after sending, or a 2xx without a Sid, is Ambiguous.
PlaceCallOutcome classify_connect_call_response(const ProviderResponse& response);

// GET {api_base}/v1/Accounts/{sid}/Calls.json?From={to}&DateCreated=gte:
// {since a minute early, India time}&PageSize=50 (bulk call details). The
// customer is the From of a connect-to-flow call: Exotel rings From first.
http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup);

// 200 {"Calls": [{"Sid", "Status", "DateCreated" ("YYYY-MM-DD HH:mm:ss",
// India time)}...]}: the sought call (pick_sought_call); anything else is
// LookupFailed. Exotel lists only calls that have ended (see
// lookup_settles_after in provider.cpp).
LookupOutcome classify_list_calls_response(const ProviderResponse& response, const CallLookup& lookup);

}  // namespace callgate::providers::exotel
