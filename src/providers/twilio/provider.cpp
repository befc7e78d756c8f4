#include "providers/twilio/provider.hpp"

#include "core/log.hpp"
#include "core/store/lead_store.hpp"
#include "http/form/form_codec.hpp"
#include "providers/public_url.hpp"
#include "providers/twilio/call_flow.hpp"
#include "providers/twilio/client.hpp"
#include "providers/twilio/settings.hpp"
#include "providers/twilio/signature.hpp"
#include "providers/twilio/webhook.hpp"
#include "providers/webhook_endpoints.hpp"

#include <boost/beast/http/field.hpp>

#include <charconv>

namespace callgate::providers::twilio {

using boost::asio::awaitable;
using providers::WebhookRejected;

namespace {

bool has_json_body(const http::Request& request) {
  const auto type = http::header_value(request, boost::beast::http::field::content_type);
  return type.substr(0, type.find(';')) == "application/json";
}

http::Response twiml_response(std::string document) {
  http::Response response{http::Status::ok, 11};
  response.set(boost::beast::http::field::content_type, "text/xml; charset=utf-8");
  response.body() = std::move(document);
  return response;
}

std::optional<double> parse_confidence(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  // "Not inside [0, 1]", so that "nan" (which parses) is refused too.
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || !(value >= 0 && value <= 1))
    return std::nullopt;
  return value;
}

// A stream that never reached the bridge, as the lead keeps it. (Built
// outside the coroutine: GCC 12 destroys a braced temporary in one twice.)
MediaStream unbridged_stream(const std::string& call_sid, WallTime now) {
  MediaStream stream;
  stream.claim = "unbridged:" + call_sid;
  stream.call_sid = call_sid;
  stream.provider = "twilio";
  stream.started = now;
  stream.ended = now;
  stream.outcome = "agent_unavailable";
  return stream;
}

// A recording status or transcription callback: signed like every Twilio
// webhook, parsed, kept on the lead its URL (or its call) names; 204 once
// stored, so Twilio retries anything that was not.
template <class Parse>
awaitable<http::Response> keep_on_lead(const providers::Provider& self, store::LeadStore& store,
                                       const providers::WebhookMetricIds& ids, http::RequestContext& context,
                                       Parse parse, const providers::RecordingFetcher& fetch_recording) {
  const auto inbound = providers::inbound_request(context);
  if (auto refusal = providers::reject_unless_authentic_call_flow(self, inbound, context, ids))
    co_return std::move(*refusal);
  const auto* fields = inbound.form_fields();
  if (!fields)
    co_return http::make_json_error(http::Status::bad_request,
                                    "the body is not valid application/x-www-form-urlencoded", context.request_id);
  auto parsed = parse(*fields, WallClock::now());
  if (auto* error = std::get_if<WebhookError>(&parsed))
    co_return http::make_json_error(http::Status::bad_request, error->message, context.request_id);
  LeadUpdate update(std::move(std::get<0>(parsed)));
  std::string lead_id(http::query_parameter(context.request, "leadId").value_or(""));
  if (lead_id.empty()) {
    const auto call_sid = std::string(http::form_value(*fields, "CallSid").value_or(""));
    auto owner = co_await store.find_lead_by_call_sid(call_sid);
    if (auto* found = std::get_if<std::optional<std::string>>(&owner); found && *found) lead_id = **found;
  }
  std::optional<Recording> finished;
  if (auto* recording = std::get_if<Recording>(&update)) finished = *recording;
  auto stored = co_await store.update_lead(lead_id, std::move(update));
  if (auto* error = std::get_if<store::StoreError>(&stored)) {
    if (error->failure == store::StoreFailure::not_found)
      co_return http::make_json_error(http::Status::not_found, "no lead has this call", context.request_id);
    co_return http::make_json_error(http::Status::service_unavailable, "could not be stored; retry",
                                    context.request_id);
  }
  if (finished && fetch_recording) fetch_recording(context, lead_id, *finished);
  co_return http::Response{http::Status::no_content, 11};
}

}  // namespace

http::ClientRequest TwilioProvider::build_place_call_request(const Config& config,
                                                             const providers::CallOrder& order) const {
  return build_create_call_request(config, order);
}

PlaceCallOutcome TwilioProvider::classify_place_call_response(const ProviderResponse& response) const {
  return classify_create_call_response(response);
}

http::ClientRequest TwilioProvider::build_find_calls_request(const Config& config, const CallLookup& lookup) const {
  return build_list_calls_request(config, lookup);
}

LookupOutcome TwilioProvider::classify_find_calls_response(const ProviderResponse& response,
                                                           const CallLookup& lookup) const {
  return classify_list_calls_response(response, lookup);
}

// Twilio lists a call from the moment it is created (queued included).
std::chrono::seconds TwilioProvider::lookup_settles_after(const Config&) const { return std::chrono::seconds(0); }

std::optional<WebhookRejected> TwilioProvider::authenticate_webhook(const Config& config,
                                                                    const providers::InboundRequest& inbound) const {
  const auto& twilio = settings_of(config);
  if (!twilio.verify_signatures) return std::nullopt;
  if (twilio.auth_token.empty()) return WebhookRejected{"auth_token_not_configured"};
  const auto signature = http::header_value(inbound.request, "X-Twilio-Signature");
  if (signature.empty()) return WebhookRejected{"missing_signature"};
  auto signed_with = [&](std::string_view token) {
    if (token.empty()) return false;
    if (has_json_body(inbound.request))
      return is_valid_json_signature(token, inbound.public_url, inbound.request.body(), signature);
    const auto* fields = inbound.form_fields();
    return fields && is_valid_signature(token, inbound.public_url, *fields, signature);
  };
  // The secondary token only during a rotation (empty otherwise).
  if (!signed_with(twilio.auth_token) && !signed_with(twilio.auth_token_secondary))
    return WebhookRejected{"bad_signature"};
  return std::nullopt;
}

bool TwilioProvider::recognizes_webhook(const http::Request& request) const {
  if (!request["X-Twilio-Signature"].empty()) return true;
  const auto fields = http::parse_form(request.body());
  if (!fields) return false;
  const auto account = http::form_value(*fields, "AccountSid");
  return (account && account->starts_with("AC")) || http::form_value(*fields, "CallStatus").has_value();
}

std::variant<CallEvent, providers::WebhookMalformed> TwilioProvider::parse_status_callback(
    const providers::InboundRequest& inbound) const {
  const auto* fields = inbound.form_fields();
  if (!fields) return providers::WebhookMalformed{"the body is not valid application/x-www-form-urlencoded"};
  const auto lead_id = http::query_parameter(inbound.request, "leadId").value_or("");
  auto parsed = twilio::parse_status_callback(*fields, lead_id,
                                              http::header_value(inbound.request, "I-Twilio-Idempotency-Token"));
  if (auto* error = std::get_if<WebhookError>(&parsed)) return providers::WebhookMalformed{error->message};
  return std::get<CallEvent>(std::move(parsed));
}

void TwilioProvider::register_call_flow_endpoints(http::HttpRouter& router,
                                                  providers::CallFlowServices services) const {
  const auto* self = this;
  auto first_document = [self, &ids = services.metric_ids,
                         &tokens = services.stream_tokens](http::RequestContext& context) -> awaitable<http::Response> {
    const auto inbound = providers::inbound_request(context);
    if (auto refusal = providers::reject_unless_authentic_call_flow(*self, inbound, context, ids))
      co_return std::move(*refusal);
    const auto lead_id = http::query_parameter(context.request, "leadId").value_or("");
    const auto& config = context.config;
    BridgedStream bridged;
    if (config.call_flow.next == CallFlowStep::stream && config.call_flow.stream_url.empty()) {
      // The token binds the stream to this call: Twilio names it in the
      // form (POST) or the query (GET).
      const auto* fields = inbound.form_fields();
      auto call_sid = std::string(fields ? http::form_value(*fields, "CallSid").value_or("") : "");
      if (call_sid.empty()) call_sid = http::query_parameter(context.request, "CallSid").value_or("");
      bridged.url = providers::websocket_url(config.server.public_base_url, "/media/twilio");
      bridged.token = tokens ? tokens(config, lead_id, call_sid) : std::string();
      bridged.notice = config.voice.consent_notice;
    }
    co_return twiml_response(render_call_flow(config.call_flow, config.server.public_base_url, lead_id, bridged));
  };
  router.add(http::Verb::get, "/twiml", first_document);
  router.add(http::Verb::post, "/twiml", first_document);

  router.add(http::Verb::post, "/webhook/twilio/recording",
             [self, &store = services.store, &ids = services.metric_ids,
              &fetch = services.fetch_recording](http::RequestContext& context) {
               return keep_on_lead(*self, store, ids, context, parse_recording_callback, fetch);
             });
  router.add(http::Verb::post, "/webhook/twilio/transcription",
             [self, &store = services.store, &ids = services.metric_ids,
              &fetch = services.fetch_recording](http::RequestContext& context) {
               return keep_on_lead(*self, store, ids, context, parse_transcription_callback, fetch);
             });

  // <Connect action>: a bridged stream ended; what the call does next is
  // what the media bridge kept on the lead.
  router.add(http::Verb::post, "/twiml/stream-ended",
             [self, &store = services.store,
              &ids = services.metric_ids](http::RequestContext& context) -> awaitable<http::Response> {
               const auto inbound = providers::inbound_request(context);
               if (auto refusal = providers::reject_unless_authentic_call_flow(*self, inbound, context, ids))
                 co_return std::move(*refusal);
               const auto* fields = inbound.form_fields();
               const auto call_sid = std::string(fields ? http::form_value(*fields, "CallSid").value_or("") : "");
               const auto lead_id = http::query_parameter(context.request, "leadId").value_or("");
               const auto& config = context.config;
               auto got = co_await store.get(lead_id);
               auto* lead = std::get_if<Lead>(&got);
               const MediaStream* stream = nullptr;
               if (lead)
                 for (const auto& known : lead->media_streams)
                   if (!call_sid.empty() && known.call_sid == call_sid) stream = &known;
               if (lead && stream == nullptr && !call_sid.empty()) {
                 // The stream never reached the bridge (refused, or the agent
                 // URL unreachable from Twilio): the caller met no agent, and
                 // the lead says so, so the dialer calls again.
                 const auto now = WallClock::now();
                 auto kept = co_await store.update_lead(lead->id, unbridged_stream(call_sid, now));
                 if (auto* error = std::get_if<store::StoreError>(&kept))
                   LogLine(LogLevel::warn, "media_stream_end_not_recorded")
                       .trusted_text("lead_id", lead->id)
                       .text("reason", error->message);
               }
               co_return twiml_response(render_stream_ended(config.call_flow, config.voice, stream));
             });

  router.add(http::Verb::post, "/twiml/gather",
             [self, &store = services.store,
              &ids = services.metric_ids](http::RequestContext& context) -> awaitable<http::Response> {
               const auto inbound = providers::inbound_request(context);
               const providers::Provider* signer = self;
               if (auto refusal = providers::reject_unless_authentic_call_flow(*self, inbound, context, ids, &signer))
                 co_return std::move(*refusal);
               const auto* fields = inbound.form_fields();
               if (!fields)
                 co_return http::make_json_error(http::Status::bad_request,
                                                 "the body is not valid application/x-www-form-urlencoded",
                                                 context.request_id);
               const auto lead_id = http::query_parameter(context.request, "leadId").value_or("");
               CallFlowInput input;
               input.provider = std::string(to_string(signer->name()));
               input.call_sid = std::string(http::form_value(*fields, "CallSid").value_or(""));
               input.digits = std::string(http::form_value(*fields, "Digits").value_or(""));
               input.speech_result = std::string(http::form_value(*fields, "SpeechResult").value_or(""));
               input.confidence = parse_confidence(http::form_value(*fields, "Confidence").value_or(""));
               input.received = WallClock::now();
               const auto call_sid = input.call_sid;
               auto stored = co_await store.record_call_flow_input(lead_id, std::move(input));
               // The caller is on the line: whatever happened to the record,
               // the call goes on to its next step.
               if (auto* error = std::get_if<store::StoreError>(&stored))
                 LogLine(LogLevel::warn, "call_flow_input_not_recorded")
                     .trusted_text("provider", "twilio")
                     .text("call_sid", call_sid)
                     .text("reason", error->message);
               co_return twiml_response(render_gather_reply(context.config.call_flow));
             });
}

std::vector<providers::Provider::StartWarning> TwilioProvider::start_warnings(const Config& config) const {
  if (settings_of(config).verify_signatures) return {};
  return {
      {"twilio_signatures_not_verified",
       "telephony.twilio.verify_signatures is false: anyone can post Twilio webhooks. For local experiments only."}};
}

}  // namespace callgate::providers::twilio
