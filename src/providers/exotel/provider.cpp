#include "providers/exotel/provider.hpp"

#include "core/log.hpp"
#include "core/store/lead_store.hpp"
#include "providers/exotel/call_flow.hpp"
#include "providers/exotel/client.hpp"
#include "providers/exotel/settings.hpp"
#include "providers/exotel/webhook.hpp"
#include "providers/webhook_endpoints.hpp"

#include <boost/beast/http/field.hpp>

namespace callgate::providers::exotel {

using boost::asio::awaitable;
namespace beast_http = boost::beast::http;

http::ClientRequest ExotelProvider::build_place_call_request(const Config& config,
                                                             const providers::CallOrder& order) const {
  return build_connect_call_request(config, order);
}

PlaceCallOutcome ExotelProvider::classify_place_call_response(const ProviderResponse& response) const {
  return classify_connect_call_response(response);
}

http::ClientRequest ExotelProvider::build_find_calls_request(const Config& config, const CallLookup& lookup) const {
  return build_list_calls_request(config, lookup);
}

LookupOutcome ExotelProvider::classify_find_calls_response(const ProviderResponse& response,
                                                           const CallLookup& lookup) const {
  return classify_list_calls_response(response, lookup);
}

// Bulk call details leave out calls still going: a call is missing from the
// list for certain only once it would have ended (its ring time and time
// limit, Exotel's longest when not configured: 4 hours), with two minutes
// more for Exotel to list it.
std::chrono::seconds ExotelProvider::lookup_settles_after(const Config& config) const {
  const auto& exotel = settings_of(config);
  const unsigned ring = exotel.ring_timeout_seconds != 0 ? exotel.ring_timeout_seconds : 60;
  const unsigned limit = exotel.time_limit_seconds != 0 ? exotel.time_limit_seconds : 14'400;
  return std::chrono::seconds(ring + limit + 120);
}

std::optional<providers::WebhookRejected> ExotelProvider::authenticate_webhook(
    const Config& config, const providers::InboundRequest& inbound) const {
  WebhookCredentials credentials{inbound.request.method_string(),
                                 inbound.public_url,
                                 inbound.request.body(),
                                 inbound.request["X-Exotel-Signature"],
                                 inbound.request[beast_http::field::authorization],
                                 http::query_parameter(inbound.request, "token"),
                                 inbound.peer};
  if (auto failure = authentication_failure(settings_of(config), credentials))
    return providers::WebhookRejected{std::move(*failure)};
  return std::nullopt;
}

bool ExotelProvider::recognizes_webhook(const http::Request& request) const {
  // Exotel is what /webhook assumes when nothing says Twilio; this only
  // says whether the request looks like Exotel's at all.
  const auto fields = callback_fields(request[beast_http::field::content_type], request.body());
  return fields && field(*fields, "CallSid").has_value() && !field(*fields, "AccountSid").has_value();
}

std::variant<CallEvent, providers::WebhookMalformed> ExotelProvider::parse_status_callback(
    const providers::InboundRequest& inbound) const {
  const auto content_type = inbound.request[beast_http::field::content_type];
  const auto fields = callback_fields(content_type, inbound.request.body());
  if (!fields)
    return providers::WebhookMalformed{"the body does not parse as its Content-Type (" +
                                       std::string(content_type.substr(0, 60)) + ")"};
  const auto lead_id = http::query_parameter(inbound.request, "leadId").value_or("");
  auto parsed = exotel::parse_status_callback(*fields, lead_id);
  if (auto* error = std::get_if<WebhookError>(&parsed)) return providers::WebhookMalformed{error->message};
  return std::get<CallEvent>(std::move(parsed));
}

void ExotelProvider::register_call_flow_endpoints(http::HttpRouter& router,
                                                  providers::CallFlowServices services) const {
  const auto* self = this;
  router.add(http::Verb::get, "/exotel/passthru",
             [self, &store = services.store,
              &ids = services.metric_ids](http::RequestContext& context) -> awaitable<http::Response> {
               const auto inbound = providers::inbound_request(context);
               if (auto refusal = providers::reject_unless_authentic(*self, inbound, context, ids))
                 co_return std::move(*refusal);
               const auto query = http::query_fields(context.request);
               if (!query)
                 co_return http::make_json_error(http::Status::bad_request, "the query string is malformed",
                                                 context.request_id);
               auto parsed = parse_passthru(*query);
               if (auto* error = std::get_if<PassthruError>(&parsed))
                 co_return http::make_json_error(http::Status::bad_request, error->message, context.request_id);
               auto& passthru = std::get<PassthruRequest>(parsed);

               std::string lead_id = passthru.lead_id;
               if (lead_id.empty()) lead_id = http::query_parameter(context.request, "leadId").value_or("");
               if (lead_id.empty()) {
                 auto found = co_await store.find_lead_by_call_sid(passthru.call_sid);
                 if (auto* owner = std::get_if<std::optional<std::string>>(&found); owner && *owner) lead_id = **owner;
               }
               CallFlowInput input;
               input.provider = "exotel";
               input.call_sid = passthru.call_sid;
               input.digits = passthru.digits;
               input.detail = passthru.call_type;
               input.received = WallClock::now();
               auto stored = co_await store.record_call_flow_input(lead_id, std::move(input));
               // 200 keeps the flow on its first branch whatever became of
               // the record: the caller is on the line.
               if (auto* error = std::get_if<store::StoreError>(&stored))
                 LogLine(LogLevel::warn, "call_flow_input_not_recorded")
                     .trusted_text("provider", "exotel")
                     .text("call_sid", passthru.call_sid)
                     .text("reason", error->message);
               http::Response response{http::Status::ok, 11};
               response.set(beast_http::field::content_type, "text/plain; charset=utf-8");
               response.body() = "OK";
               co_return response;
             });
}

std::vector<providers::Provider::StartWarning> ExotelProvider::start_warnings(const Config& config) const {
  if (!settings_of(config).webhook_auth.allow_unauthenticated) return {};
  return {{"exotel_webhooks_not_authenticated",
           "telephony.exotel.webhook_auth.allow_unauthenticated is true. For development only."}};
}

}  // namespace callgate::providers::exotel
