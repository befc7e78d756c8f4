// TwiML: what Twilio plays once the customer answers, rendered from the
// call_flow config section. Pure; every configured text is XML-escaped.
#pragma once

#include "core/config.hpp"

#include <string>
#include <string_view>

namespace callgate::providers::twilio {

// The first document (GET|POST /twiml): the greeting, then a <Gather> whose
// action is {public_base_url}/twiml/gather?leadId=..., a <Connect><Stream>
// carrying the lead id as a <Parameter>, or <Hangup/>.
std::string render_call_flow(const CallFlowConfig& flow, std::string_view public_base_url, std::string_view lead_id);

// The answer to the <Gather> action: the configured reply, then <Hangup/>.
std::string render_gather_reply(const CallFlowConfig& flow);

}  // namespace callgate::providers::twilio
