#include "providers/twilio/client.hpp"

#include "http/form/form_codec.hpp"
#include "providers/public_url.hpp"
#include "providers/twilio/settings.hpp"
#include "providers/twilio/webhook.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

namespace callgate::providers {

namespace twilio {
namespace {

std::string string_field(const boost::json::object* object, std::string_view name) {
  if (object == nullptr) return {};
  const auto* value = object->if_contains(name);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

std::string call_flow_url_for(const Config& config, std::string_view lead_id) {
  const auto& configured = settings_of(config).call_flow_url;
  if (configured.empty()) return providers::callback_url(config.server.public_base_url, "/twiml", lead_id);
  const char separator = configured.find('?') == std::string::npos ? '?' : '&';
  return configured + separator + "leadId=" + http::encode_form_component(lead_id);
}

http::ClientRequest build_create_call_request(const Config& config, const providers::CallOrder& order) {
  const auto& twilio = settings_of(config);
  http::FormFields fields = {
      {"To", order.to},
      {"From", twilio.phone_number},
      {"Url", call_flow_url_for(config, order.lead_id)},
      {"StatusCallback", providers::callback_url(config.server.public_base_url, "/webhook/twilio", order.lead_id)},
      {"StatusCallbackMethod", "POST"},
      // Each event is its own repeated field: that is how Twilio reads a list.
      {"StatusCallbackEvent", "initiated"},
      {"StatusCallbackEvent", "ringing"},
      {"StatusCallbackEvent", "answered"},
      {"StatusCallbackEvent", "completed"},
      {"Record", twilio.record_calls ? "true" : "false"},
  };
  if (twilio.ring_timeout_seconds != 0) fields.emplace_back("Timeout", std::to_string(twilio.ring_timeout_seconds));
  if (twilio.time_limit_seconds != 0) fields.emplace_back("TimeLimit", std::to_string(twilio.time_limit_seconds));
  if (!twilio.machine_detection.empty()) fields.emplace_back("MachineDetection", twilio.machine_detection);
  if (twilio.record_calls) {
    // Both sides on their own channel, and each step of the recording
    // reported back so it is listed on the lead.
    fields.emplace_back("RecordingChannels", "dual");
    fields.emplace_back("RecordingStatusCallback", providers::callback_url(config.server.public_base_url,
                                                                           "/webhook/twilio/recording", order.lead_id));
    fields.emplace_back("RecordingStatusCallbackMethod", "POST");
    for (const char* event : {"in-progress", "completed", "absent"})
      fields.emplace_back("RecordingStatusCallbackEvent", event);
  }

  return http::make_form_post(
      twilio.api_base + "/2010-04-01/Accounts/" + http::encode_form_component(twilio.account_sid) + "/Calls.json",
      fields, twilio.account_sid, twilio.auth_token);
}

PlaceCallOutcome classify_create_call_response(const ProviderResponse& response) {
  if (auto failed = outcome_of_transport_failure(response)) return *failed;
  boost::system::error_code parse_error;
  const auto parsed = boost::json::parse(response.body, parse_error);
  const boost::json::object* object = !parse_error && parsed.is_object() ? &parsed.as_object() : nullptr;
  const unsigned status = response.status;
  if (status >= 200 && status < 300) {
    const auto sid = string_field(object, "sid");
    if (sid.size() > 2 && sid.starts_with("CA")) return Placed{sid, string_field(object, "status")};
    return Ambiguous{"HTTP " + std::to_string(status) + " without a call sid"};
  }
  const std::string message = string_field(object, "message");
  if (status == 429 || status >= 500)
    return Retryable{"HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message),
                     parse_retry_after_seconds(response.retry_after)};
  int code = static_cast<int>(status);
  if (object != nullptr)
    if (const auto* value = object->if_contains("code"); value && value->is_int64())
      code = static_cast<int>(value->as_int64());
  return Rejected{code, message.empty() ? "HTTP " + std::to_string(status) : message,
                  string_field(object, "more_info")};
}

http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup) {
  const auto& twilio = settings_of(config);
  return http::make_get(twilio.api_base + "/2010-04-01/Accounts/" + http::encode_form_component(twilio.account_sid) +
                            "/Calls.json?To=" + http::encode_form_component(lookup.to) + "&PageSize=50",
                        twilio.account_sid, twilio.auth_token);
}

LookupOutcome classify_list_calls_response(const ProviderResponse& response, const CallLookup& lookup) {
  if (response.failure != TransportFailure::none) return LookupFailed{"no answer: " + response.failure_reason};
  boost::system::error_code parse_error;
  const auto parsed = boost::json::parse(response.body, parse_error);
  const boost::json::object* object = !parse_error && parsed.is_object() ? &parsed.as_object() : nullptr;
  if (response.status != 200) {
    const auto message = string_field(object, "message");
    return LookupFailed{"HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message)};
  }
  const auto* calls = object ? object->if_contains("calls") : nullptr;
  if (!calls || !calls->is_array()) return LookupFailed{"HTTP 200 without a calls list"};
  std::vector<ListedCall> listed;
  for (const auto& entry : calls->as_array()) {
    const auto* call = entry.if_object();
    if (!call || string_field(call, "to") != lookup.to) continue;
    const auto status = string_field(call, "status");
    listed.push_back({string_field(call, "sid"), status, parse_call_status(status),
                      parse_rfc2822_time(string_field(call, "date_created"))});
  }
  return pick_sought_call(listed, lookup);
}

}  // namespace twilio
}  // namespace callgate::providers
