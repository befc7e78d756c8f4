#include "providers/simulator/webhook.hpp"

#include "providers/exotel/webhook.hpp"
#include "providers/simulator/settings.hpp"
#include "providers/twilio/signature.hpp"
#include "providers/twilio/webhook.hpp"

#include <boost/beast/http/field.hpp>

namespace callgate::providers::simulator {

std::optional<providers::WebhookRejected> authenticate_callback(const Config& config,
                                                                const providers::InboundRequest& inbound) {
  const auto& simulator = settings_of(config);
  if (simulator.auth_token.empty()) return providers::WebhookRejected{"auth_token_not_configured"};
  if (simulator.format == SimulatorFormat::exotel) {
    const auto signature = inbound.request["X-Exotel-Signature"];
    if (signature.empty()) return providers::WebhookRejected{"missing_signature"};
    if (!exotel::is_valid_request_signature(simulator.auth_token, inbound.request.method_string(), inbound.public_url,
                                            inbound.request.body(), signature))
      return providers::WebhookRejected{"bad_signature"};
    return std::nullopt;
  }
  const auto signature = inbound.request["X-Twilio-Signature"];
  if (signature.empty()) return providers::WebhookRejected{"missing_signature"};
  const auto* fields = inbound.form_fields();
  if (!fields || !twilio::is_valid_signature(simulator.auth_token, inbound.public_url, *fields, signature))
    return providers::WebhookRejected{"bad_signature"};
  return std::nullopt;
}

std::variant<CallEvent, providers::WebhookMalformed> parse_callback(const providers::InboundRequest& inbound) {
  const auto lead_id = http::query_parameter(inbound.request, "leadId").value_or("");
  auto labelled = [](CallEvent event) {
    event.provider = "simulator";
    return event;
  };
  const auto content_type = inbound.request[boost::beast::http::field::content_type];
  if (content_type.substr(0, content_type.find(';')) == "application/json") {
    const auto fields = exotel::callback_fields(content_type, inbound.request.body());
    if (!fields) return providers::WebhookMalformed{"the body does not parse as its Content-Type"};
    auto parsed = exotel::parse_status_callback(*fields, lead_id);
    if (auto* error = std::get_if<exotel::WebhookError>(&parsed)) return providers::WebhookMalformed{error->message};
    return labelled(std::get<CallEvent>(std::move(parsed)));
  }
  const auto* fields = inbound.form_fields();
  if (!fields) return providers::WebhookMalformed{"the body is not valid application/x-www-form-urlencoded"};
  auto parsed = twilio::parse_status_callback(*fields, lead_id, inbound.request["I-Twilio-Idempotency-Token"]);
  if (auto* error = std::get_if<twilio::WebhookError>(&parsed)) return providers::WebhookMalformed{error->message};
  return labelled(std::get<CallEvent>(std::move(parsed)));
}

}  // namespace callgate::providers::simulator
