#include "providers/simulator/call_flow.hpp"
#include "providers/simulator/settings.hpp"

namespace callgate::providers::simulator {
namespace {

std::string xml_unescape(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    bool replaced = false;
    for (const auto& [entity, character] : kEntities)
      if (text.substr(at, entity.size()) == entity) {
        out.push_back(character);
        at += entity.size();
        replaced = true;
        break;
      }
    if (!replaced) out.push_back(text[at++]);
  }
  return out;
}

}  // namespace

std::optional<std::string> twiml_problem(unsigned status, std::string_view content_type, std::string_view body) {
  if (status != 200) return "HTTP " + std::to_string(status) + " instead of 200";
  const auto type = content_type.substr(0, content_type.find(';'));
  if (type != "text/xml" && type != "application/xml")
    return "Content-Type " + std::string(type.substr(0, 60)) + " is not XML";
  if (!body.starts_with("<?xml") || body.find("<Response>") == std::string_view::npos || !body.ends_with("</Response>"))
    return "the body is not a <Response> document";
  return std::nullopt;
}

std::optional<std::string> gather_action(std::string_view twiml) {
  const auto gather = twiml.find("<Gather ");
  if (gather == std::string_view::npos) return std::nullopt;
  const auto tag_end = twiml.find('>', gather);
  const auto tag = twiml.substr(gather, tag_end == std::string_view::npos ? std::string_view::npos : tag_end - gather);
  constexpr std::string_view kAction = " action=\"";
  const auto action = tag.find(kAction);
  if (action == std::string_view::npos) return std::nullopt;
  const auto value_start = action + kAction.size();
  const auto value_end = tag.find('"', value_start);
  if (value_end == std::string_view::npos) return std::nullopt;
  return xml_unescape(tag.substr(value_start, value_end - value_start));
}

http::ClientRequest build_gather_request(const SimulatorSettings& config, const SimulatedCall& call,
                                         const std::string& action_url) {
  auto fields = twilio_call_fields(call, CallStatus::in_progress);
  fields.emplace_back("Digits", config.gather_digits);
  return signed_twilio_post(config, action_url, fields);
}

}  // namespace callgate::providers::simulator
