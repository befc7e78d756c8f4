// Delivers the outbox's lead events (core/events/event_outbox.hpp) to each
// endpoint of events.endpoints: a POST of the event's JSON, signed per
// Standard Webhooks, on one reactor with a client of its own, so a slow or
// dead receiver never holds up intake or webhooks.
//
// - Per endpoint, up to events.concurrency deliveries at once, each for a
//   different lead; a lead's events go one at a time, in order.
// - A 2xx answer delivers; anything else (another status, a redirect, which
//   is never followed, a timeout, a refused connection) is tried again
//   after the outbox's backoff, until the change is older than
//   events.give_up_after.
// - An event goes out only once the store's record of its change is
//   durable: a receiver never hears of a change a crash could take back.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/events/event_outbox.hpp"
#include "core/metrics.hpp"
#include "core/spawn.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace callgate::events {

struct EventMetricIds {
  MetricId deliveries;  // callgate_event_deliveries_total{endpoint, result}
  MetricId owed;        // callgate_events_owed{endpoint}
  MetricId oldest_age;  // callgate_events_oldest_owed_seconds{endpoint}
  MetricId failed;      // callgate_events_failed{endpoint}
};
EventMetricIds declare_event_metrics(MetricsRegistry& registry);

// The outbox's endpoints as the config names them.
std::vector<OutboxEndpoint> outbox_endpoints(const EventsConfig& config);
RetryPolicy retry_policy(const EventsConfig& config);

class EventDelivery {
 public:
  // Completes with true once the store's record with this ticket is
  // durable, false when it cannot be written.
  using WaitDurable = std::function<boost::asio::awaitable<bool>(std::uint64_t ticket)>;

  EventDelivery(EventOutbox& outbox, EventsConfig config, WaitDurable wait_durable, const Clock& clock);
  ~EventDelivery();

  // Starts a loop per endpoint on io; metrics go to that reactor's shard.
  // ca_file: the CA bundle endpoints are verified against (empty: the system's).
  void start(boost::asio::io_context& io, MetricsShard& metrics, const EventMetricIds& ids, std::string ca_file);
  // The loops stop waiting; deliveries under way finish (within events.timeout).
  void stop();

 private:
  struct Endpoint;
  boost::asio::awaitable<void> run(std::size_t endpoint, StopSignal::Token stop);
  boost::asio::awaitable<void> deliver(Delivery delivery);
  void wake_all();
  void refresh_gauges(std::size_t endpoint);

  EventOutbox& outbox_;
  EventsConfig config_;
  WaitDurable wait_durable_;
  const Clock& clock_;
  boost::asio::io_context* io_ = nullptr;
  MetricsShard* metrics_ = nullptr;
  EventMetricIds ids_{};
  std::unique_ptr<http::HttpClient> client_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<bool> wake_posted_{false};
};

}  // namespace callgate::events
