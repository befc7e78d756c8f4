// Placing a call with the simulator: the request goes over real HTTP to the
// simulated account that callgated serves itself (account.hpp), at
// {public_base_url}/simulator/calls, and its answers have Twilio's shape, so
// they are read by Twilio's own classifiers. Pure.
#pragma once

#include "providers/place_call_outcome.hpp"
#include "providers/provider.hpp"

namespace callgate::providers::simulator {

// The simulated account's user name in Basic auth; the password is
// telephony.simulator.auth_token.
inline constexpr std::string_view kAccountUser = "simulator";
inline constexpr std::string_view kCallsPath = "/simulator/calls";

// POST {public_base_url}/simulator/calls, form fields To, From, Url (the
// call flow: {public_base_url}/twiml?leadId=...) and StatusCallback
// ({public_base_url}/webhook/simulator?leadId=...).
http::ClientRequest build_create_call_request(const Config& config, const providers::CallOrder& order);

// GET {public_base_url}/simulator/calls?To=...: the account's calls to a number.
http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup);

}  // namespace callgate::providers::simulator
