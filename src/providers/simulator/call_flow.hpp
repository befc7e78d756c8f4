// The simulated customer's side of a Twilio call flow: what the fetched
// TwiML asks for and the answer Twilio would post for them. Pure.
#pragma once

#include "core/config.hpp"
#include "http/client/exchange.hpp"
#include "providers/simulator/call_script.hpp"
#include "providers/simulator/settings.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace callgate::providers::simulator {

// Whether a call-flow answer is TwiML: 200, an XML content type, a
// <Response> document. Nothing when it is; else what is wrong with it.
std::optional<std::string> twiml_problem(unsigned status, std::string_view content_type, std::string_view body);

// The action URL of the document's <Gather>, XML entities decoded; nothing
// without a Gather or its action.
std::optional<std::string> gather_action(std::string_view twiml);

// The POST Twilio makes to a Gather's action when the caller presses
// config.gather_digits: the call's fields and Digits, signed.
http::ClientRequest build_gather_request(const SimulatorSettings& config, const SimulatedCall& call,
                                         const std::string& action_url);

}  // namespace callgate::providers::simulator
