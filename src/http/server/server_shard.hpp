// Everything one reactor's HTTP server owns: its config snapshot, its metric
// series, its request-id generator, its open connections. Only the reactor's
// own thread touches it (the daemon reaches it by posting to that reactor).
#pragma once

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "http/server/connections_by_address.hpp"
#include "http/server/http_date.hpp"
#include "http/server/request_id.hpp"
#include "http/server/responses.hpp"
#include "http/server/router.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace callgate::http {

class ServerShard;
class Session;

// What a handler that takes the connection over (a WebSocket upgrade, a
// file too large to answer from memory) runs once its status is counted
// and logged: it writes everything itself. The socket and whatever bytes the session had
// read past the request are its own from then on. The request is handed
// over whole (the upgrade needs it to answer the handshake).
using ConnectionTakeover = std::function<boost::asio::awaitable<void>(
    boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& already_read, Request request)>;

struct RequestContext {
  const Request& request;
  const PathParameters& parameters;
  const std::string& request_id;
  const boost::asio::ip::tcp::endpoint& peer;
  const Config& config;  // the reactor's snapshot, kept alive for the request
  ServerShard& shard;
  // Set by a handler that writes its own answer: the session counts the
  // returned response's status, then runs this instead of writing it.
  ConnectionTakeover* takeover = nullptr;
};

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;
using HttpRouter = Router<Handler>;

// The metric families the HTTP server declares; ids shared by every shard.
struct HttpMetricIds {
  MetricId requests;
  MetricId request_duration;
  MetricId connections_open;
  MetricId connections_accepted;
  MetricId connections_refused;
  MetricId connections_refused_per_address;
  MetricId request_errors;
};
HttpMetricIds declare_http_metrics(MetricsRegistry& registry);

// Why a request never reached a handler; one counter series each.
enum class RequestError { malformed, header_too_large, body_too_large, read_timeout, unsupported_transfer_encoding };

class ServerShard {
 public:
  ServerShard(boost::asio::io_context& io, std::shared_ptr<const Config> config, const HttpRouter& router,
              MetricsShard& metrics, const HttpMetricIds& ids, unsigned connection_limit,
              ConnectionsByAddress& connections_by_address);

  boost::asio::io_context& io() { return io_; }
  const HttpRouter& router() const { return router_; }
  const std::shared_ptr<const Config>& config() const { return config_; }
  void replace_config(std::shared_ptr<const Config> config) { config_ = std::move(config); }

  RequestIdGenerator& request_ids() { return request_ids_; }
  HttpDateCache& date() { return date_; }
  MetricsShard& metrics() { return metrics_; }

  // Route keys: a route's index, or one of these two for requests no route took.
  std::size_t unmatched_route_key() const { return router_.size(); }
  std::size_t invalid_request_key() const { return router_.size() + 1; }
  void record_request(std::size_t route_key, unsigned status, double seconds);
  // The route pattern, "(unmatched)" or "(invalid)": for metrics and logs alike.
  std::string_view route_name(std::size_t route_key) const;
  void record_error(RequestError error);

  // Connections: the listener asks before accepting; drain closes idle ones.
  bool has_room_for_connection() const { return connections_.size() < connection_limit_; }
  void connection_refused();
  // Per client address, across reactors (server.max_connections_per_address;
  // trusted proxies are not limited): the listener asks before accepting,
  // the session gives its place back when it ends.
  bool admit_address(const boost::asio::ip::address& address);
  void release_address(const boost::asio::ip::address& address);
  void add(Session& session);
  void remove(Session& session);
  std::size_t open_connections() const { return connections_.size(); }

  bool draining() const { return draining_; }
  // Stop taking requests on idle connections, finish the ones in flight, then
  // call on_drained (on this reactor's thread) once no connection is left.
  void begin_drain(std::function<void()> on_drained);
  // The drain deadline passed: cut whatever is still open.
  void close_all_connections();
  // Teardown, once the reactor's thread has stopped: closes every
  // connection and timer, then runs the loop until the sessions have ended,
  // so the io_context can be destroyed after this shard without anything
  // in it still pointing here.
  void shut_down();

 private:
  std::pair<std::string, std::string> route_labels(std::size_t route_key) const;
  void notify_if_drained();
  template <class Action>
  void for_each_session(Action action);

  boost::asio::io_context& io_;
  std::shared_ptr<const Config> config_;
  const HttpRouter& router_;
  MetricsShard& metrics_;
  const HttpMetricIds& ids_;
  unsigned connection_limit_;
  ConnectionsByAddress& connections_by_address_;
  RequestIdGenerator request_ids_;
  HttpDateCache date_;

  Gauge& connections_open_;
  Counter& connections_accepted_;
  Counter& connections_refused_;
  std::unordered_map<std::uint64_t, Counter*> request_counters_;  // (route key << 16) | status
  std::unordered_map<std::size_t, Histogram*> request_durations_;

  // The periodic check of every open session's deadline.
  void start_deadline_sweep();
  void sweep_deadlines();

  std::unordered_set<Session*> connections_;
  boost::asio::steady_timer sweep_timer_;
  bool sweeping_ = false;
  bool draining_ = false;
  std::function<void()> on_drained_;
};

}  // namespace callgate::http
