#include "events/event_delivery.hpp"

#include "core/events/standard_webhooks.hpp"
#include "core/log.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace callgate::events {

namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;

struct EventDelivery::Endpoint {
  std::string name;
  std::string url;
  std::string key;  // the secret, decoded
  std::unique_ptr<StopSignal> stop;
  std::unique_ptr<asio::steady_timer> timer;
  unsigned in_flight = 0;
  bool failing = false;  // the last delivery failed: logged once, not per event
  std::chrono::steady_clock::time_point gauges_refreshed{};
};

EventMetricIds declare_event_metrics(MetricsRegistry& registry) {
  return {
      registry.declare_counter("callgate_event_deliveries_total",
                               "Lead event deliveries by endpoint and result (delivered, retry: tried again later, "
                               "gave_up: kept as failed)."),
      registry.declare_gauge("callgate_events_owed", "Lead events not yet delivered, by endpoint."),
      registry.declare_gauge("callgate_events_oldest_owed_seconds",
                             "Age of the oldest change whose event an endpoint has not taken yet."),
      registry.declare_gauge("callgate_events_failed", "Lead events given up on, kept to redeliver, by endpoint."),
  };
}

std::vector<OutboxEndpoint> outbox_endpoints(const EventsConfig& config) {
  std::vector<OutboxEndpoint> endpoints;
  for (const auto& endpoint : config.endpoints) endpoints.push_back({endpoint.name, endpoint.types});
  return endpoints;
}

RetryPolicy retry_policy(const EventsConfig& config) {
  RetryPolicy policy;
  policy.first = config.retry_first;
  policy.longest = config.retry_longest;
  policy.give_up_after = config.give_up_after;
  return policy;
}

EventDelivery::EventDelivery(EventOutbox& outbox, EventsConfig config, WaitDurable wait_durable, const Clock& clock)
    : outbox_(outbox), config_(std::move(config)), wait_durable_(std::move(wait_durable)), clock_(clock) {}

EventDelivery::~EventDelivery() { outbox_.on_ready(nullptr); }

void EventDelivery::start(asio::io_context& io, MetricsShard& metrics, const EventMetricIds& ids, std::string ca_file) {
  io_ = &io;
  metrics_ = &metrics;
  ids_ = ids;
  HttpClientConfig client;
  client.connect_timeout = std::min<Milliseconds>(config_.timeout, Milliseconds(5'000));
  client.request_timeout = config_.timeout;
  client.total_timeout = config_.timeout;
  client.max_connections_per_host = config_.concurrency;
  client.warm_connections = 0;
  // A receiver's answer is read only for its status: a large body is cut off.
  client.max_response_bytes = 64 * 1024;
  client.ca_file = std::move(ca_file);
  client.user_agent = "callgated-events";
  client_ = std::make_unique<http::HttpClient>(io, client);
  for (std::size_t index = 0; index < config_.endpoints.size(); ++index) {
    const auto& configured = config_.endpoints[index];
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->name = configured.name;
    endpoint->url = configured.url;
    endpoint->key = webhook_secret_key(configured.secret).value_or("");  // validated with the config
    endpoint->stop = std::make_unique<StopSignal>(io.get_executor());
    endpoint->timer = std::make_unique<asio::steady_timer>(io);
    endpoints_.push_back(std::move(endpoint));
  }
  for (std::size_t index = 0; index < endpoints_.size(); ++index)
    spawn_loop(
        io, [this, index, token = endpoints_[index]->stop->token()] { return run(index, token); },
        "lead event delivery");
  outbox_.on_ready([this] { wake_all(); });
}

void EventDelivery::stop() {
  outbox_.on_ready(nullptr);
  for (auto& endpoint : endpoints_) endpoint->stop->stop();
}

// Any thread (the store's callers): one wake-up in flight at a time, so a
// burst of changes posts once.
void EventDelivery::wake_all() {
  if (wake_posted_.exchange(true)) return;
  asio::post(*io_, [this] {
    wake_posted_ = false;
    for (auto& endpoint : endpoints_) endpoint->timer->cancel();
  });
}

void EventDelivery::refresh_gauges(std::size_t index) {
  auto& endpoint = *endpoints_[index];
  const auto now = std::chrono::steady_clock::now();
  if (now - endpoint.gauges_refreshed < 1s) return;
  endpoint.gauges_refreshed = now;
  const auto state = outbox_.state(index, clock_.now());
  const MetricLabels labels = {{"endpoint", endpoint.name}};
  metrics_->gauge(ids_.owed, labels).set(static_cast<std::int64_t>(state.owed));
  metrics_->gauge(ids_.failed, labels).set(static_cast<std::int64_t>(state.failed));
  const auto age = state.oldest_owed
                       ? std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - *state.oldest_owed)
                       : std::chrono::seconds(0);
  metrics_->gauge(ids_.oldest_age, labels).set(std::max<std::int64_t>(0, age.count()));
}

awaitable<void> EventDelivery::run(std::size_t index, StopSignal::Token stop) {
  auto& endpoint = *endpoints_[index];
  for (;;) {
    while (endpoint.in_flight < config_.concurrency) {
      auto delivery = outbox_.next_due(index, clock_.now());
      if (!delivery) break;
      ++endpoint.in_flight;
      spawn_task(*io_, deliver(std::move(*delivery)), "lead event delivery");
    }
    refresh_gauges(index);
    // Woken early by a new event or a delivery's end; once a second in any
    // case, for the gauges.
    auto wait = std::chrono::milliseconds(1'000);
    if (endpoint.in_flight < config_.concurrency)
      if (const auto end = outbox_.next_wait_end(index))
        wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*end - clock_.now()),
                          std::chrono::milliseconds(0), wait);
    endpoint.timer->expires_after(wait);
    if (!co_await stop.wait(*endpoint.timer)) co_return;
  }
}

awaitable<void> EventDelivery::deliver(Delivery delivery) {
  auto& endpoint = *endpoints_[delivery.endpoint];
  std::string failure;
  if (delivery.ticket != 0 && !co_await wait_durable_(delivery.ticket)) {
    failure = "the change's record could not be written";
  } else {
    const auto timestamp = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    const auto& event = *delivery.event;
    http::ClientRequest request;
    request.url = endpoint.url;
    request.headers = {
        {"Content-Type", "application/json"},
        {"webhook-id", event.id},
        {"webhook-timestamp", std::to_string(timestamp)},
        {"webhook-signature", standard_webhook_signature(endpoint.key, event.id, timestamp, event.payload)}};
    request.body = event.payload;
    const auto response = co_await client_->send(std::move(request));
    // A 2xx status line is the receiver taking the event, whatever follows
    // it (a body over the cap, a connection closed early).
    const bool taken = response.status >= 200 && response.status < 300;
    if (!taken) {
      if (response.failure != http::TransportFailure::none)
        failure = response.failure_reason;
      else if (response.status >= 300 && response.status < 400)
        failure = "answered " + std::to_string(response.status) + " (redirects are not followed)";
      else
        failure = "answered " + std::to_string(response.status);
    }
  }
  --endpoint.in_flight;
  const MetricLabels delivered_labels = {{"endpoint", endpoint.name}, {"result", "delivered"}};
  if (failure.empty()) {
    outbox_.delivered(delivery);
    metrics_->counter(ids_.deliveries, delivered_labels).increment();
    if (std::exchange(endpoint.failing, false))
      LogLine(LogLevel::info, "event_endpoint_recovered").trusted_text("endpoint", endpoint.name);
  } else {
    const bool gave_up = outbox_.not_delivered(delivery, failure, clock_.now());
    metrics_->counter(ids_.deliveries, {{"endpoint", endpoint.name}, {"result", gave_up ? "gave_up" : "retry"}})
        .increment();
    if (!std::exchange(endpoint.failing, true))
      LogLine(LogLevel::warn, "event_endpoint_failing")
          .trusted_text("endpoint", endpoint.name)
          .text("reason", failure)
          .trusted_text("detail", "its events wait and are tried again with backoff");
    if (gave_up)
      LogLine(LogLevel::warn, "event_given_up")
          .trusted_text("endpoint", endpoint.name)
          .trusted_text("event_id", delivery.event->id)
          .text("reason", failure);
  }
  endpoint.timer->cancel();  // the loop may send the lead's next event, or another lead's
}

}  // namespace callgate::events
