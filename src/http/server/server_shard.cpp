#include "http/server/server_shard.hpp"

#include "core/network_range.hpp"

#include "http/server/session.hpp"

#include <boost/asio/post.hpp>

namespace callgate::http {

HttpMetricIds declare_http_metrics(MetricsRegistry& registry) {
  HttpMetricIds ids;
  ids.requests = registry.declare_counter("callgate_http_requests_total",
                                          "HTTP requests answered, by route, method and status code.");
  ids.request_duration = registry.declare_histogram(
      "callgate_http_request_duration_seconds",
      "Time from a request's first byte to its response ready to send, by route.", latency_buckets_seconds());
  ids.connections_open = registry.declare_gauge("callgate_http_connections_open", "HTTP connections open now.");
  ids.connections_accepted =
      registry.declare_counter("callgate_http_connections_accepted_total", "HTTP connections accepted.");
  ids.connections_refused =
      registry.declare_counter("callgate_http_connections_refused_total",
                               "HTTP connections refused with 503 because server.max_connections was reached.");
  ids.connections_refused_per_address = registry.declare_counter(
      "callgate_http_connections_refused_per_address_total",
      "HTTP connections refused with 503 because their address had server.max_connections_per_address open.");
  ids.request_errors =
      registry.declare_counter("callgate_http_request_errors_total", "Requests rejected before routing, by reason.");
  return ids;
}

ServerShard::ServerShard(boost::asio::io_context& io, std::shared_ptr<const Config> config, const HttpRouter& router,
                         MetricsShard& metrics, const HttpMetricIds& ids, unsigned connection_limit,
                         ConnectionsByAddress& connections_by_address)
    : io_(io),
      config_(std::move(config)),
      router_(router),
      metrics_(metrics),
      ids_(ids),
      connection_limit_(connection_limit),
      connections_by_address_(connections_by_address),
      request_ids_(RequestIdGenerator::seeded_from_os()),
      connections_open_(metrics.gauge(ids.connections_open)),
      connections_accepted_(metrics.counter(ids.connections_accepted)),
      connections_refused_(metrics.counter(ids.connections_refused)),
      sweep_timer_(io) {}

namespace {
// Deadlines are enforced to within this; the shortest configurable timeout is 100 ms.
constexpr std::chrono::milliseconds kDeadlineSweepInterval{25};
}  // namespace

// The sweep runs only while connections are open, so an idle daemon does
// not wake up forty times a second for nothing.
void ServerShard::start_deadline_sweep() {
  if (sweeping_ || connections_.empty()) return;
  sweeping_ = true;
  sweep_timer_.expires_after(kDeadlineSweepInterval);
  sweep_timer_.async_wait([this](boost::system::error_code error) {
    sweeping_ = false;
    if (error) return;
    sweep_deadlines();
    start_deadline_sweep();
  });
}

void ServerShard::sweep_deadlines() {
  const auto now = std::chrono::steady_clock::now();
  for_each_session([now](Session& session) { session.expire_if_due(now); });
}

std::string_view ServerShard::route_name(std::size_t route_key) const {
  if (route_key == unmatched_route_key()) return "(unmatched)";
  if (route_key >= router_.size()) return "(invalid)";
  return router_.routes()[route_key].pattern.text();
}

std::pair<std::string, std::string> ServerShard::route_labels(std::size_t route_key) const {
  if (route_key >= router_.size()) return {std::string(route_name(route_key)), "-"};
  const auto method = boost::beast::http::to_string(router_.routes()[route_key].method);
  return {std::string(route_name(route_key)), std::string(method.data(), method.size())};
}

template <class Action>
void ServerShard::for_each_session(Action action) {
  // Copy first: acting on a session may end it and remove it from the set.
  const std::vector<Session*> open(connections_.begin(), connections_.end());
  for (auto* session : open) action(*session);
}

void ServerShard::record_request(std::size_t route_key, unsigned status, double seconds) {
  // The first request of each (route, status) pair creates the series; every
  // later one is a hash lookup on this thread's own map and a plain store.
  const std::uint64_t counter_key = (static_cast<std::uint64_t>(route_key) << 16) | status;
  auto counter = request_counters_.find(counter_key);
  if (counter == request_counters_.end()) {
    const auto [route, method] = route_labels(route_key);
    const auto status_text = std::to_string(status);
    auto& series = metrics_.counter(ids_.requests, {{"route", route}, {"method", method}, {"status", status_text}});
    counter = request_counters_.emplace(counter_key, &series).first;
  }
  counter->second->increment();

  auto duration = request_durations_.find(route_key);
  if (duration == request_durations_.end()) {
    const auto [route, method] = route_labels(route_key);
    auto& series = metrics_.histogram(ids_.request_duration, {{"route", route}, {"method", method}});
    duration = request_durations_.emplace(route_key, &series).first;
  }
  duration->second->observe(seconds);
}

void ServerShard::record_error(RequestError error) {
  std::string_view reason = "malformed";
  switch (error) {
    case RequestError::malformed:
      reason = "malformed";
      break;
    case RequestError::header_too_large:
      reason = "header_too_large";
      break;
    case RequestError::body_too_large:
      reason = "body_too_large";
      break;
    case RequestError::read_timeout:
      reason = "read_timeout";
      break;
    case RequestError::unsupported_transfer_encoding:
      reason = "unsupported_transfer_encoding";
      break;
  }
  metrics_.counter(ids_.request_errors, {{"reason", reason}}).increment();
}

void ServerShard::connection_refused() { connections_refused_.increment(); }

bool ServerShard::admit_address(const boost::asio::ip::address& address) {
  const auto& server = config_->server;
  const unsigned limit = any_contains(server.trusted_proxies, address) ? 0 : server.max_connections_per_address;
  if (connections_by_address_.try_add(address, limit)) return true;
  metrics_.counter(ids_.connections_refused_per_address).increment();
  return false;
}

void ServerShard::release_address(const boost::asio::ip::address& address) { connections_by_address_.remove(address); }

void ServerShard::add(Session& session) {
  connections_.insert(&session);
  connections_accepted_.increment();
  connections_open_.add(1);
  start_deadline_sweep();
}

void ServerShard::remove(Session& session) {
  connections_.erase(&session);
  connections_open_.add(-1);
  notify_if_drained();
}

void ServerShard::begin_drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  for_each_session([](Session& session) { session.drain(); });
  // Report from a fresh handler, never from inside the caller's stack.
  boost::asio::post(io_, [this] { notify_if_drained(); });
}

void ServerShard::close_all_connections() {
  for_each_session([](Session& session) { session.close(); });
}

void ServerShard::shut_down() {
  on_drained_ = nullptr;
  close_all_connections();
  sweep_timer_.cancel();
  io_.restart();
  while (io_.poll() > 0) {
  }
}

void ServerShard::notify_if_drained() {
  if (draining_ && connections_.empty() && on_drained_) {
    sweep_timer_.cancel();
    auto callback = std::move(on_drained_);
    on_drained_ = nullptr;
    callback();
  }
}

}  // namespace callgate::http
