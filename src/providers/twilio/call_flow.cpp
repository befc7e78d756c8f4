#include "providers/twilio/call_flow.hpp"

#include "core/markup_escape.hpp"
#include "providers/public_url.hpp"

namespace callgate::providers::twilio {
namespace {

constexpr std::string_view kDocumentStart = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>";
constexpr std::string_view kDocumentEnd = "</Response>";

// attribute(" voice", value): nothing when value is empty.
std::string attribute(std::string_view name, std::string_view value) {
  if (value.empty()) return {};
  std::string out(" ");
  out.append(name);
  out.append("=\"");
  out.append(escape_markup(value));
  out.push_back('"');
  return out;
}

std::string say(const CallFlowConfig& flow, std::string_view text) {
  if (text.empty()) return {};
  return "<Say" + attribute("voice", flow.voice) + attribute("language", flow.language) + ">" + escape_markup(text) +
         "</Say>";
}

std::string greeting(const CallFlowConfig& flow) {
  if (!flow.greeting_play.empty()) return "<Play>" + escape_markup(flow.greeting_play) + "</Play>";
  return say(flow, flow.greeting_say);
}

}  // namespace

std::string render_call_flow(const CallFlowConfig& flow, std::string_view public_base_url, std::string_view lead_id,
                             const BridgedStream& bridged) {
  std::string document(kDocumentStart);
  document += greeting(flow);
  switch (flow.next) {
    case CallFlowStep::gather: {
      const auto action = providers::callback_url(public_base_url, "/twiml/gather", lead_id);
      document += "<Gather input=\"speech dtmf\"" + attribute("action", action) + " method=\"POST\"" +
                  attribute("timeout", std::to_string(flow.gather_timeout_seconds)) + " speechTimeout=\"auto\"" +
                  (flow.gather_num_digits ? attribute("numDigits", std::to_string(flow.gather_num_digits)) : "") +
                  attribute("language", flow.language) + attribute("hints", flow.gather_hints) + ">" +
                  say(flow, flow.gather_prompt) + "</Gather>";
      // No answer at all: Twilio falls through to the next verb.
      document += say(flow, flow.gather_reply) + "<Hangup/>";
      break;
    }
    case CallFlowStep::stream:
      if (!flow.stream_url.empty()) {
        document += "<Connect><Stream" + attribute("url", flow.stream_url) + "><Parameter name=\"leadId\"" +
                    attribute("value", lead_id) + "/></Stream></Connect>";
        break;
      }
      document += say(flow, bridged.notice);
      document += "<Connect" +
                  attribute("action", providers::callback_url(public_base_url, "/twiml/stream-ended", lead_id)) +
                  " method=\"POST\"><Stream" + attribute("url", bridged.url) + "><Parameter name=\"leadId\"" +
                  attribute("value", lead_id) + "/><Parameter name=\"token\"" + attribute("value", bridged.token) +
                  "/></Stream></Connect>";
      break;
    case CallFlowStep::hangup:
      document += "<Hangup/>";
      break;
  }
  document += kDocumentEnd;
  return document;
}

std::string render_stream_ended(const CallFlowConfig& flow, const VoiceConfig& voice, const MediaStream* stream) {
  std::string document(kDocumentStart);
  if (stream != nullptr && stream->outcome == "transfer" && !stream->transfer_to.empty())
    document += "<Dial>" + escape_markup(stream->transfer_to) + "</Dial>";
  else if (stream == nullptr || stream->outcome == "agent_unavailable" || stream->outcome == "refused")
    document += say(flow, voice.fallback_say);
  document += "<Hangup/>";
  document += kDocumentEnd;
  return document;
}

std::string render_gather_reply(const CallFlowConfig& flow) {
  return std::string(kDocumentStart) + say(flow, flow.gather_reply) + "<Hangup/>" + std::string(kDocumentEnd);
}

}  // namespace callgate::providers::twilio
