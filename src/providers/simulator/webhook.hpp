// The simulator's status callbacks as callgate receives them on
// /webhook/simulator: in Twilio's format (form fields, X-Twilio-Signature)
// or Exotel's (JSON, with the HMAC-SHA256 of the body in
// X-Exotel-Signature), each keyed with telephony.simulator.auth_token and
// read by that provider's own parser, then labelled "simulator". Pure.
//
// Authentication holds a callback to the configured format; parsing tells
// the formats apart by Content-Type (Exotel's is JSON).
#pragma once

#include "providers/provider.hpp"

namespace callgate::providers::simulator {

std::optional<providers::WebhookRejected> authenticate_callback(const Config& config,
                                                                const providers::InboundRequest& request);

std::variant<CallEvent, providers::WebhookMalformed> parse_callback(const providers::InboundRequest& request);

}  // namespace callgate::providers::simulator
