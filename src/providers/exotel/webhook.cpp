#include "providers/exotel/webhook.hpp"

#include "core/ascii.hpp"
#include "core/civil_time.hpp"
#include "core/crypto.hpp"
#include "http/form/multipart_codec.hpp"
#include "providers/exotel/settings.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace callgate::providers::exotel {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

void flatten(const boost::json::value& value, const std::string& name, http::FormFields& out) {
  switch (value.kind()) {
    case boost::json::kind::object:
      for (const auto& member : value.as_object())
        flatten(member.value(), name.empty() ? std::string(member.key()) : name + "[" + std::string(member.key()) + "]",
                out);
      break;
    case boost::json::kind::array: {
      std::size_t index = 0;
      for (const auto& item : value.as_array()) flatten(item, name + "[" + std::to_string(index++) + "]", out);
      break;
    }
    case boost::json::kind::string:
      out.emplace_back(name, std::string(value.as_string()));
      break;
    case boost::json::kind::int64:
      out.emplace_back(name, std::to_string(value.as_int64()));
      break;
    case boost::json::kind::uint64:
      out.emplace_back(name, std::to_string(value.as_uint64()));
      break;
    case boost::json::kind::double_:
      out.emplace_back(name, std::to_string(value.as_double()));
      break;
    case boost::json::kind::bool_:
      out.emplace_back(name, value.as_bool() ? "true" : "false");
      break;
    case boost::json::kind::null:
      break;
  }
}

}  // namespace

std::optional<CallStatus> status_from_exotel(std::string_view raw) {
  const auto word = lowercase(raw);
  if (word == "cancelled") return CallStatus::canceled;
  if (word == "answered") return CallStatus::in_progress;
  return parse_call_status(word);
}

std::optional<std::string_view> field(const http::FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (equals_ignoring_case(key, name)) return std::string_view(value);
  return std::nullopt;
}

std::optional<http::FormFields> callback_fields(std::string_view content_type, std::string_view body) {
  const auto media_type = lowercase(content_type.substr(0, content_type.find(';')));
  if (media_type == "application/json") {
    boost::system::error_code error;
    const auto parsed = boost::json::parse(body, error);
    if (error || !parsed.is_object()) return std::nullopt;
    http::FormFields fields;
    flatten(parsed, "", fields);
    return fields;
  }
  if (media_type == "multipart/form-data") {
    const auto boundary = http::multipart_boundary(content_type);
    if (!boundary) return std::nullopt;
    return http::parse_multipart_form(body, *boundary);
  }
  return http::parse_form(body);
}

std::optional<WallTime> parse_exotel_time(std::string_view text) {
  // "YYYY-MM-DD HH:mm:ss" is ISO 8601 with a space and no zone: India's.
  if (text.size() != 19 || text[10] != ' ') return std::nullopt;
  return parse_iso8601(std::string(text) + "+05:30");
}

std::string lead_id_from_custom_field(std::string_view custom_field) {
  if (custom_field.empty()) return {};
  boost::system::error_code error;
  const auto parsed = boost::json::parse(custom_field, error);
  if (!error) {
    if (!parsed.is_object()) return {};
    const auto* lead_id = parsed.as_object().if_contains("leadId");
    return lead_id && lead_id->is_string() ? std::string(lead_id->as_string()) : std::string();
  }
  const bool bare_id = custom_field.size() <= 64 && std::all_of(custom_field.begin(), custom_field.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                       });
  return bare_id ? std::string(custom_field) : std::string();
}

std::variant<CallEvent, WebhookError> parse_status_callback(const http::FormFields& fields,
                                                            std::string_view lead_id_from_url) {
  CallEvent event;
  event.provider = "exotel";
  event.call_sid = std::string(field(fields, "CallSid").value_or(""));
  if (event.call_sid.empty()) return WebhookError{"CallSid is missing"};

  auto raw_status = field(fields, "Status").value_or("");
  if (raw_status.empty()) raw_status = field(fields, "Legs[0][Status]").value_or("");
  const auto event_type = field(fields, "EventType").value_or("");
  if (raw_status.empty() && equals_ignoring_case(event_type, "answered")) raw_status = "in-progress";
  if (raw_status.empty()) return WebhookError{"Status is missing"};
  const auto status = status_from_exotel(raw_status);
  if (!status) return WebhookError{"unknown Status '" + std::string(raw_status.substr(0, 40)) + "'"};
  event.status = *status;
  event.raw_status = std::string(raw_status);

  event.lead_id = std::string(lead_id_from_url);
  if (event.lead_id.empty()) event.lead_id = lead_id_from_custom_field(field(fields, "CustomField").value_or(""));

  if (auto when = field(fields, "DateUpdated")) event.event_time = parse_exotel_time(*when);
  auto duration = field(fields, "ConversationDuration");
  if (!duration || duration->empty()) duration = field(fields, "Legs[0][OnCallDuration]");
  if (duration && !duration->empty()) {
    auto seconds = parse_decimal<std::int64_t>(*duration);
    if (!seconds || *seconds < 0) return WebhookError{"ConversationDuration is not a whole number of seconds"};
    event.duration_seconds = seconds;
  }
  event.recording_url = std::string(field(fields, "RecordingUrl").value_or(""));
  auto answered_by = field(fields, "AnsweredBy");
  if (!answered_by || answered_by->empty()) answered_by = field(fields, "Legs[0][AnsweredBy]");
  if (answered_by && !equals_ignoring_case(*answered_by, "NA")) event.answered_by = lowercase(*answered_by);
  return event;
}

std::string signed_request_text(std::string_view method, std::string_view url, std::string_view body) {
  std::string text;
  text.reserve(method.size() + url.size() + body.size() + 2);
  text.append(method).push_back('\n');
  text.append(url).push_back('\n');
  text.append(body);
  return text;
}

std::string request_signature(std::string_view secret, std::string_view method, std::string_view url,
                              std::string_view body) {
  return hex_encode(hmac_sha256(secret, signed_request_text(method, url, body)));
}

bool is_valid_request_signature(std::string_view secret, std::string_view method, std::string_view url,
                                std::string_view body, std::string_view signature) {
  if (secret.empty() || signature.empty()) return false;
  const auto digest = hmac_sha256(secret, signed_request_text(method, url, body));
  const auto expected_hex = hex_encode(digest);
  if (signature.size() == expected_hex.size()) return equal_in_constant_time(expected_hex, lowercase(signature));
  return equal_in_constant_time(base64_encode(digest), signature);
}

std::optional<std::string> authentication_failure(const ExotelSettings& exotel, const WebhookCredentials& credentials) {
  const auto& auth = exotel.webhook_auth;
  bool any_check = false;
  if (!exotel.webhook_secret.empty()) {
    any_check = true;
    if (credentials.signature.empty()) return "missing_signature";
    if (!is_valid_request_signature(exotel.webhook_secret, credentials.method, credentials.url, credentials.body,
                                    credentials.signature))
      return "bad_signature";
  }
  if (!auth.callback_token.empty()) {
    any_check = true;
    if (!credentials.token) return "missing_token";
    if (!equal_in_constant_time(*credentials.token, auth.callback_token)) return "bad_token";
  }
  if (!auth.basic_username.empty()) {
    any_check = true;
    const auto authorization = credentials.authorization;
    if (authorization.size() < 6 || !equals_ignoring_case(authorization.substr(0, 6), "Basic "))
      return "missing_credentials";
    const auto decoded = base64_decode(authorization.substr(6));
    if (!decoded || !equal_in_constant_time(*decoded, auth.basic_username + ":" + auth.basic_password))
      return "bad_credentials";
  }
  if (!auth.allowed_sources.empty()) {
    any_check = true;
    if (!any_contains(auth.allowed_sources, credentials.peer)) return "source_not_allowed";
  }
  if (!any_check && !auth.allow_unauthenticated) return "no_check_configured";
  return std::nullopt;
}

}  // namespace callgate::providers::exotel
