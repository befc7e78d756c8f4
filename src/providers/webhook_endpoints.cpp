#include "providers/webhook_endpoints.hpp"

#include "core/log.hpp"
#include "core/spawn.hpp"
#include "core/store/lead_store.hpp"
#include "http/form/form_codec.hpp"
#include "providers/public_url.hpp"

#include <boost/asio/co_spawn.hpp>

namespace callgate::providers {

using boost::asio::awaitable;
namespace beast_http = boost::beast::http;

WebhookMetricIds declare_webhook_metrics(MetricsRegistry& registry) {
  WebhookMetricIds ids;
  ids.events = registry.declare_counter("callgate_webhook_events_total",
                                        "Provider status callbacks stored, by what the state machine made of them.");
  ids.rejections = registry.declare_counter(
      "callgate_webhook_rejections_total",
      "Provider requests refused: failed authentication (403), malformed (400) or not stored (503).");
  return ids;
}

InboundRequest inbound_request(const http::RequestContext& context) {
  return InboundRequest{context.request, public_url_of(context.request, context.peer.address(), context.config.server),
                        context.peer.address()};
}

std::optional<http::Response> reject_unless_authentic(const Provider& provider, const InboundRequest& inbound,
                                                      http::RequestContext& context, const WebhookMetricIds& ids) {
  const auto rejected = provider.authenticate_webhook(context.config, inbound);
  if (!rejected) return std::nullopt;
  const auto provider_name = to_string(provider.name());
  context.shard.metrics()
      .counter(ids.rejections, {{"provider", provider_name}, {"reason", rejected->reason}})
      .increment();
  LogLine(LogLevel::warn, "webhook_rejected")
      .trusted_text("provider", provider_name)
      .trusted_text("reason", rejected->reason)
      .trusted_text("peer", inbound.peer.to_string())
      .trusted_text("request_id", context.request_id);
  return http::make_json_error(http::Status::forbidden, "request not authenticated: " + rejected->reason,
                               context.request_id);
}

std::optional<http::Response> reject_unless_authentic_call_flow(const Provider& owner, const InboundRequest& inbound,
                                                                http::RequestContext& context,
                                                                const WebhookMetricIds& ids, const Provider** signer) {
  auto signed_by = [signer](const Provider& provider) {
    if (signer) *signer = &provider;
    return std::nullopt;
  };
  if (!owner.authenticate_webhook(context.config, inbound)) return signed_by(owner);
  for (const Provider* other : all_providers())
    if (other->imitates(context.config) == owner.name() && provider_in_use(context.config.telephony, other->name()) &&
        !other->authenticate_webhook(context.config, inbound))
      return signed_by(*other);
  // Counted and answered as the owner's refusal: that is whose endpoint it is.
  return reject_unless_authentic(owner, inbound, context, ids);
}

namespace {

// The events counter for a provider and outcome on this reactor's shard,
// found once and then kept: looking a series up renders its labels and
// takes the shard's lock, too much for every callback. Both names are
// static strings, so they are told apart by address; shards by serial.
Counter& event_counter(http::RequestContext& context, const WebhookMetricIds& ids, std::string_view provider,
                       std::string_view outcome) {
  struct Known {
    std::uint64_t shard;
    const char* provider;
    const char* outcome;
    Counter* counter;
  };
  thread_local std::vector<Known> known;
  auto& shard = context.shard.metrics();
  for (const auto& entry : known)
    if (entry.shard == shard.serial() && entry.provider == provider.data() && entry.outcome == outcome.data())
      return *entry.counter;
  auto& counter = shard.counter(ids.events, {{"provider", std::string(provider)}, {"outcome", std::string(outcome)}});
  if (known.size() < 64) known.push_back({shard.serial(), provider.data(), outcome.data(), &counter});
  return counter;
}

// The recording a provider names in its status callback, as the lead lists
// it. Twilio's have a callback of their own (with their sid and status);
// Exotel's come only this way. (Built outside the coroutine: GCC 12
// destroys a braced temporary in one twice.)
std::optional<Recording> recording_in(const CallEvent& event, std::string_view provider, WallTime received) {
  if (event.recording_url.empty() || provider == "twilio" || event.recording_url == "null") return std::nullopt;
  Recording recording;
  recording.id = std::string(provider) + ":" + event.call_sid;
  recording.source = std::string(provider);
  recording.call_sid = event.call_sid;
  recording.status = "completed";
  recording.provider_url = event.recording_url;
  if (event.duration_seconds) recording.duration_ms = *event.duration_seconds * 1000;
  recording.started = received;
  recording.updated = received;
  return recording;
}

awaitable<http::Response> handle_status_callback(const Provider& provider, http::RequestContext& context,
                                                 store::LeadStore& store, const WebhookMetricIds& ids,
                                                 store::EventSpool* spool, dialer::CallEndings* dialer,
                                                 const RecordingFetcher& fetch_recording) {
  const auto provider_name = to_string(provider.name());
  // The simulator's endpoint exists only while it places calls (with its
  // once well-known development token it stored forged events into real
  // leads). Decided per request, so a reload that adds a route adds it.
  if (provider.callbacks_only_while_in_use() && !provider_in_use(context.config.telephony, provider.name())) {
    context.shard.metrics()
        .counter(ids.rejections, {{"provider", provider_name}, {"reason", "provider_not_in_use"}})
        .increment();
    co_return http::make_json_error(
        http::Status::not_found,
        "no route for POST " + std::string(context.request.target().substr(0, context.request.target().find('?'))) +
            ": " + std::string(provider_name) + " places no calls here",
        context.request_id);
  }
  const auto inbound = inbound_request(context);
  if (auto refusal = reject_unless_authentic(provider, inbound, context, ids)) co_return std::move(*refusal);

  auto parsed = provider.parse_status_callback(inbound);
  if (auto* malformed = std::get_if<WebhookMalformed>(&parsed)) {
    context.shard.metrics().counter(ids.rejections, {{"provider", provider_name}, {"reason", "malformed"}}).increment();
    co_return http::make_json_error(http::Status::bad_request, malformed->message, context.request_id);
  }
  auto& event = std::get<CallEvent>(parsed);
  const auto call_sid = event.call_sid;
  const auto status = event.status;
  const auto received = WallClock::now();
  // The store takes the event whole (a copy is a dozen strings); a copy is
  // kept only for the spool, where there is one. (Not a conditional
  // expression in the co_await: GCC 12 destroyed its temporary twice.)
  std::optional<CallEvent> for_spool;
  if (spool) for_spool = event;
  auto recording = recording_in(event, provider_name, received);
  auto stored = co_await store.apply_event(std::move(event), received);
  if (auto* error = std::get_if<store::StoreError>(&stored);
      error && error->failure == store::StoreFailure::unavailable && spool) {
    // The store is down or slow: the spool keeps the event until it is back.
    const auto spooled = co_await spool->append(*for_spool, received);
    if (!spooled) {
      event_counter(context, ids, provider_name, "spooled").increment();
      co_return http::Response{http::Status::no_content, 11};
    }
    LogLine(LogLevel::error, "webhook_not_spooled").trusted_text("reason", spooled.message());
  }
  if (auto* error = std::get_if<store::StoreError>(&stored)) {
    context.shard.metrics()
        .counter(ids.rejections, {{"provider", provider_name}, {"reason", "store_unavailable"}})
        .increment();
    LogLine(LogLevel::error, "webhook_not_stored")
        .trusted_text("provider", provider_name)
        .text("call_sid", call_sid)
        .text("reason", error->message);
    // Not acknowledged, so the provider delivers it again later.
    co_return http::make_json_error(http::Status::service_unavailable, "the event could not be stored; retry",
                                    context.request_id);
  }
  const auto& applied = std::get<store::ApplyResult>(stored);
  event_counter(context, ids, provider_name, to_string(applied.outcome)).increment();
  if (recording && !applied.lead_id.empty()) {
    // The event itself is stored; a recording not listed is logged, not a reason for the provider to retry.
    if (fetch_recording) fetch_recording(context, applied.lead_id, *recording);
    auto listed = co_await store.update_lead(applied.lead_id, std::move(*recording));
    if (auto* error = std::get_if<store::StoreError>(&listed))
      LogLine(LogLevel::warn, "recording_not_listed")
          .trusted_text("lead_id", applied.lead_id)
          .text("reason", error->message);
  }
  // The call is over: the dialer decides on a redial, after this answer.
  if (dialer && applied.outcome == EventOutcome::applied && is_terminal(status) && !applied.lead_id.empty())
    spawn_task(context.shard.io(), dialer->call_ended(applied.lead_id, call_sid), "dialer deciding a redial");
  http::Response response{http::Status::no_content, 11};
  co_return response;
}

}  // namespace

void register_webhook_endpoints(http::HttpRouter& router, store::LeadStore& store, const WebhookMetricIds& ids,
                                store::EventSpool* spool, dialer::CallEndings* dialer,
                                const StreamTokenIssuer* stream_tokens, const RecordingFetcher* fetch_recording) {
  static const StreamTokenIssuer no_bridge;
  static const RecordingFetcher no_downloads;
  const RecordingFetcher& fetcher = fetch_recording ? *fetch_recording : no_downloads;
  for (const Provider* provider : all_providers()) {
    const std::string path = "/webhook/" + std::string(to_string(provider->name()));
    router.add(http::Verb::post, path,
               [provider, &store, &ids, spool, dialer, &fetcher](http::RequestContext& context) {
                 return handle_status_callback(*provider, context, store, ids, spool, dialer, fetcher);
               });
    provider->register_call_flow_endpoints(
        router, CallFlowServices{store, ids, stream_tokens ? *stream_tokens : no_bridge, fetcher});
  }

  // The address the old system gave providers: which one is calling is
  // read from the request itself. Each provider is asked in table order;
  // the last one (Exotel, which carries no distinctive header) takes the rest.
  // A provider whose callbacks count only while it is in use is skipped
  // when it is not.
  router.add(http::Verb::post, "/webhook", [&store, &ids, spool, dialer, &fetcher](http::RequestContext& context) {
    const auto providers = all_providers();
    const Provider* chosen = providers.back();
    for (const Provider* provider : providers) {
      if (provider->callbacks_only_while_in_use() && !provider_in_use(context.config.telephony, provider->name()))
        continue;
      if (provider->recognizes_webhook(context.request)) {
        chosen = provider;
        break;
      }
    }
    return handle_status_callback(*chosen, context, store, ids, spool, dialer, fetcher);
  });
}

}  // namespace callgate::providers
