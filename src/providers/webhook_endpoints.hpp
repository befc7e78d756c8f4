// The HTTP side of provider callbacks: POST /webhook (provider detected),
// POST /webhook/{twilio,exotel}, and each provider's call-flow endpoints.
// Every request is authenticated by its provider first (403 otherwise),
// parsed (400 when malformed), then applied to the lead store; the 204 goes
// out only once the store has it.
#pragma once

#include "core/dialer/dialer_hand_offs.hpp"
#include "core/metrics.hpp"
#include "core/store/event_spool.hpp"
#include "http/server/server_shard.hpp"
#include "providers/provider.hpp"

namespace callgate::providers {

struct WebhookMetricIds {
  MetricId events;      // callgate_webhook_events_total{provider, outcome}
  MetricId rejections;  // callgate_webhook_rejections_total{provider, reason}
};
WebhookMetricIds declare_webhook_metrics(MetricsRegistry& registry);

// ids, store and spool must outlive the router. Without a spool, an event
// the store cannot take is answered 503 (the provider retries).
// A callback that brings a lead's call to its end is passed to dialer
// (redial or not) after the 204; dialer may be null (tests of the endpoints alone).
// stream_tokens must outlive the router.
void register_webhook_endpoints(http::HttpRouter& router, store::LeadStore& store, const WebhookMetricIds& ids,
                                store::EventSpool* spool, dialer::CallEndings* dialer = nullptr,
                                const StreamTokenIssuer* stream_tokens = nullptr,
                                const RecordingFetcher* fetch_recording = nullptr);

// For call-flow endpoints too: the inbound request as its provider sees it.
InboundRequest inbound_request(const http::RequestContext& context);

// Authenticates with the provider; on failure counts the rejection, logs it
// and returns the 403 to send.
std::optional<http::Response> reject_unless_authentic(const Provider& provider, const InboundRequest& inbound,
                                                      http::RequestContext& context, const WebhookMetricIds& ids);

// The same for a provider's call-flow endpoints, which also take the
// requests of a provider in use that imitates it (the simulator's); signer,
// when given, is set to the provider whose request it was.
std::optional<http::Response> reject_unless_authentic_call_flow(const Provider& owner, const InboundRequest& inbound,
                                                                http::RequestContext& context,
                                                                const WebhookMetricIds& ids,
                                                                const Provider** signer = nullptr);

}  // namespace callgate::providers
