// TwiML: what Twilio plays once the customer answers, rendered from the
// call_flow config section. Pure; every configured text is XML-escaped.
#pragma once

#include "core/config.hpp"
#include "core/lead/lead.hpp"

#include <string>
#include <string_view>

namespace callgate::providers::twilio {

// A stream bridged through callgate's /media/twilio: where it goes, the
// one-time token it must bring back, what is said before it opens.
struct BridgedStream {
  std::string url;  // wss://<public host>/media/twilio
  std::string token;
  std::string notice;  // voice.consent_notice; empty: nothing
};

// The first document (GET|POST /twiml): the greeting, then a <Gather> whose
// action is {public_base_url}/twiml/gather?leadId=..., a <Connect><Stream>,
// or <Hangup/>. The stream goes to call_flow.stream.url with the lead id as
// a <Parameter> when that is set (the provider talks to the agent itself);
// otherwise to bridged, with the lead id and token as <Parameter>s and a
// <Connect action> ({public_base_url}/twiml/stream-ended?leadId=...) that
// asks callgate what next when the stream ends.
std::string render_call_flow(const CallFlowConfig& flow, std::string_view public_base_url, std::string_view lead_id,
                             const BridgedStream& bridged = {});

// The answer to the <Connect action> once a bridged stream ended, from what
// the lead says of it: the agent hung up or the caller did (<Hangup/>), the
// agent asked for a transfer (<Dial>), or the agent was not there (or the
// stream never started: stream is null): voice.fallback_say, then <Hangup/>.
std::string render_stream_ended(const CallFlowConfig& flow, const VoiceConfig& voice, const MediaStream* stream);

// The answer to the <Gather> action: the configured reply, then <Hangup/>.
std::string render_gather_reply(const CallFlowConfig& flow);

}  // namespace callgate::providers::twilio
