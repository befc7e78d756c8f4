#include "providers/twilio/call_flow.hpp"

#include "providers/public_url.hpp"

namespace callgate::twilio {
namespace {

constexpr std::string_view kDocumentStart = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>";
constexpr std::string_view kDocumentEnd = "</Response>";

// attribute(" voice", value): nothing when value is empty.
std::string attribute(std::string_view name, std::string_view value) {
  if (value.empty()) return {};
  std::string out(" ");
  out.append(name);
  out.append("=\"");
  out.append(xml_escape(value));
  out.push_back('"');
  return out;
}

std::string say(const CallFlowConfig& flow, std::string_view text) {
  if (text.empty()) return {};
  return "<Say" + attribute("voice", flow.voice) + attribute("language", flow.language) + ">" + xml_escape(text) +
         "</Say>";
}

std::string greeting(const CallFlowConfig& flow) {
  if (!flow.greeting_play.empty()) return "<Play>" + xml_escape(flow.greeting_play) + "</Play>";
  return say(flow, flow.greeting_say);
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
  return out;
}

std::string render_call_flow(const CallFlowConfig& flow, std::string_view public_base_url, std::string_view lead_id) {
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
      document += "<Connect><Stream" + attribute("url", flow.stream_url) + "><Parameter name=\"leadId\"" +
                  attribute("value", lead_id) + "/></Stream></Connect>";
      break;
    case CallFlowStep::hangup: document += "<Hangup/>"; break;
  }
  document += kDocumentEnd;
  return document;
}

std::string render_gather_reply(const CallFlowConfig& flow) {
  return std::string(kDocumentStart) + say(flow, flow.gather_reply) + "<Hangup/>" + std::string(kDocumentEnd);
}

}  // namespace callgate::twilio
