#include "providers/exotel/client.hpp"

#include "http/form/form_codec.hpp"
#include "providers/exotel/settings.hpp"
#include "providers/exotel/webhook.hpp"
#include "providers/public_url.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <charconv>

namespace callgate::providers::exotel {
namespace {

// The text of the first <tag>...</tag> inside <parent>...</parent>, for
// Exotel's XML answers. Lenient by design: the shape varies.
std::string xml_tag(std::string_view name, bool closing) {
  std::string tag(closing ? "</" : "<");
  tag.append(name);
  tag.push_back('>');
  return tag;
}

std::string xml_child_text(std::string_view document, std::string_view parent, std::string_view tag) {
  const auto parent_start = document.find(xml_tag(parent, false));
  if (parent_start == std::string_view::npos) return {};
  const auto parent_end = document.find(xml_tag(parent, true), parent_start);
  const auto inner =
      document.substr(parent_start, parent_end == std::string_view::npos ? document.npos : parent_end - parent_start);
  const std::string open = xml_tag(tag, false);
  const auto start = inner.find(open);
  if (start == std::string_view::npos) return {};
  const auto end = inner.find(xml_tag(tag, true), start);
  if (end == std::string_view::npos) return {};
  return std::string(inner.substr(start + open.size(), end - start - open.size()));
}

std::string json_text(const boost::json::object* object, std::string_view name) {
  if (object == nullptr) return {};
  const auto* value = object->if_contains(name);
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->as_string());
  if (value->is_int64()) return std::to_string(value->as_int64());
  return {};
}

const boost::json::object* json_child(const boost::json::object* object, std::string_view name) {
  if (object == nullptr) return nullptr;
  const auto* value = object->if_contains(name);
  return value && value->is_object() ? &value->as_object() : nullptr;
}

}  // namespace

std::string flow_url(const ExotelSettings& exotel) {
  if (!exotel.call_flow_url.empty()) return exotel.call_flow_url;
  return "http://my.exotel.com/" + exotel.account_sid + "/exoml/start_voice/" + exotel.flow_id;
}

std::string status_callback_url(const Config& config, std::string_view lead_id) {
  const auto& auth = settings_of(config).webhook_auth;
  std::string url = providers::callback_url(config.server.public_base_url, "/webhook/exotel", lead_id);
  if (!auth.callback_token.empty()) url += "&token=" + http::encode_form_component(auth.callback_token);
  if (!auth.basic_username.empty()) {
    if (auto parsed = boost::urls::parse_absolute_uri(url)) {
      boost::urls::url with_credentials(*parsed);
      with_credentials.set_user(auth.basic_username);
      with_credentials.set_password(auth.basic_password);
      url = std::string(with_credentials.buffer());
    }
  }
  return url;
}

std::string custom_field_for(std::string_view lead_id) {
  boost::json::object object;
  object["leadId"] = lead_id.substr(0, 100);
  return boost::json::serialize(object);
}

http::ClientRequest build_connect_call_request(const Config& config, const providers::CallOrder& order) {
  const auto& exotel = settings_of(config);
  http::FormFields fields = {
      {"From", order.to},
      {"CallerId", exotel.exophone_number},
      {"Url", flow_url(exotel)},
      {"CallType", "trans"},
      {"StatusCallback", status_callback_url(config, order.lead_id)},
      {"StatusCallbackEvents[0]", "terminal"},
      {"StatusCallbackEvents[1]", "answered"},
      {"StatusCallbackContentType", "application/json"},
      {"CustomField", custom_field_for(order.lead_id)},
      {"Record", exotel.record_calls ? "true" : "false"},
  };
  if (exotel.time_limit_seconds != 0) fields.emplace_back("TimeLimit", std::to_string(exotel.time_limit_seconds));
  if (exotel.ring_timeout_seconds != 0) fields.emplace_back("TimeOut", std::to_string(exotel.ring_timeout_seconds));

  return http::make_form_post(
      exotel.api_base + "/v1/Accounts/" + http::encode_form_component(exotel.account_sid) + "/Calls/connect.json",
      fields, exotel.api_key, exotel.api_token);
}

PlaceCallOutcome classify_connect_call_response(const ProviderResponse& response) {
  if (auto failed = outcome_of_transport_failure(response)) return *failed;
  boost::system::error_code parse_error;
  const auto parsed = boost::json::parse(response.body, parse_error);
  const boost::json::object* root = !parse_error && parsed.is_object() ? &parsed.as_object() : nullptr;
  const bool is_xml = root == nullptr && response.body.find("<TwilioResponse>") != std::string::npos;
  const unsigned status = response.status;

  if (status >= 200 && status < 300) {
    const auto* call = json_child(root, "Call");
    std::string sid = is_xml ? xml_child_text(response.body, "Call", "Sid") : json_text(call, "Sid");
    std::string call_status = is_xml ? xml_child_text(response.body, "Call", "Status") : json_text(call, "Status");
    if (!sid.empty()) return Placed{sid, call_status};
    return Ambiguous{"HTTP " + std::to_string(status) + " without a call sid"};
  }

  const auto* exception = json_child(root, "RestException");
  std::string message =
      is_xml ? xml_child_text(response.body, "RestException", "Message") : json_text(exception, "Message");
  std::string code_text =
      is_xml ? xml_child_text(response.body, "RestException", "Code") : json_text(exception, "Code");
  if (status == 429 || status >= 500)
    return Retryable{"HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message),
                     parse_retry_after_seconds(response.retry_after)};
  int code = static_cast<int>(status);
  int parsed_code = 0;
  auto [end, error] = std::from_chars(code_text.data(), code_text.data() + code_text.size(), parsed_code);
  if (!code_text.empty() && error == std::errc{} && end == code_text.data() + code_text.size()) code = parsed_code;
  return Rejected{code, message.empty() ? "HTTP " + std::to_string(status) : message, {}};
}

http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup) {
  const auto& exotel = settings_of(config);
  // "YYYY-MM-DD HH:mm:ss" in India time, as Exotel dates are.
  const auto iso = format_iso8601(lookup.since - std::chrono::minutes(1) + std::chrono::minutes(5 * 60 + 30));
  std::string since = iso.substr(0, 10);
  since.append(" ").append(iso.substr(11, 8));
  return http::make_get(exotel.api_base + "/v1/Accounts/" + http::encode_form_component(exotel.account_sid) +
                            "/Calls.json?From=" + http::encode_form_component(lookup.to) +
                            "&DateCreated=" + http::encode_form_component("gte:" + since) + "&PageSize=50",
                        exotel.api_key, exotel.api_token);
}

LookupOutcome classify_list_calls_response(const ProviderResponse& response, const CallLookup& lookup) {
  if (response.failure != TransportFailure::none) return LookupFailed{"no answer: " + response.failure_reason};
  boost::system::error_code parse_error;
  const auto parsed = boost::json::parse(response.body, parse_error);
  const boost::json::object* root = !parse_error && parsed.is_object() ? &parsed.as_object() : nullptr;
  if (response.status != 200) {
    const auto message = json_text(json_child(root, "RestException"), "Message");
    return LookupFailed{"HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message)};
  }
  const auto* calls = root ? root->if_contains("Calls") : nullptr;
  if (!calls || !calls->is_array()) return LookupFailed{"HTTP 200 without a Calls list"};
  std::vector<ListedCall> listed;
  for (const auto& entry : calls->as_array()) {
    const auto* call = entry.if_object();
    if (!call) continue;
    const auto status = json_text(call, "Status");
    listed.push_back({json_text(call, "Sid"), status, status_from_exotel(status),
                      parse_exotel_time(json_text(call, "DateCreated"))});
  }
  return pick_sought_call(listed, lookup);
}

}  // namespace callgate::providers::exotel
