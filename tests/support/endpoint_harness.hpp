// Calls a router's handlers in-process, with the RequestContext a session
// builds, and no socket: the endpoints' own logic (status codes, bodies,
// headers, what they hand to the store and the dialer) tested one request
// at a time. The integration tests cover the same endpoints through the
// real binary.
#pragma once

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "http/server/connections_by_address.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace callgate::testing {

class EndpointHarness {
 public:
  EndpointHarness() : EndpointHarness(Config()) {}
  explicit EndpointHarness(Config config)
      : config_(std::make_shared<const Config>(std::move(config))), ids_(http::declare_http_metrics(registry_)) {}

  http::HttpRouter router;

  void set_config(Config config) {
    config_ = std::make_shared<const Config>(std::move(config));
    if (shard_) shard_->replace_config(config_);
  }
  const Config& config() const { return *config_; }
  // Families are declared here before the first call (which makes the shard).
  MetricsRegistry& metrics() { return registry_; }

  struct Call {
    http::Verb method = http::Verb::get;
    std::string target = "/";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string peer = "203.0.113.7";
  };

  // The route's answer, or the router's 404 / 405 as a bare status.
  http::Response call(const Call& call) {
    http::Request request{call.method, call.target, 11};
    for (const auto& [name, value] : call.headers) request.set(name, value);
    request.body() = call.body;
    request.prepare_payload();
    auto match = router.match(call.method, call.target);
    if (match.outcome != http::HttpRouter::Outcome::found)
      return http::Response{match.outcome == http::HttpRouter::Outcome::not_found ? http::Status::not_found
                                                                                  : http::Status::method_not_allowed,
                            11};
    const std::string request_id = "test-request";
    const boost::asio::ip::tcp::endpoint peer(boost::asio::ip::make_address(call.peer), 40000);
    const auto config = config_;
    if (!shard_)
      shard_ =
          std::make_unique<http::ServerShard>(io_, config_, router, registry_.add_shard(), ids_, 100, connections_);
    http::RequestContext context{request, match.parameters, request_id, peer, *config, *shard_};
    auto answer = boost::asio::co_spawn(io_, match.route->target(context), boost::asio::use_future);
    io_.restart();
    io_.run();
    return answer.get();
  }

  http::Response post_json(const std::string& target, const std::string& body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return call({http::Verb::post, target, body, std::move(headers)});
  }
  http::Response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return call({http::Verb::get, target, "", std::move(headers)});
  }

 private:
  boost::asio::io_context io_;
  std::shared_ptr<const Config> config_;
  MetricsRegistry registry_;
  http::HttpMetricIds ids_;
  http::ConnectionsByAddress connections_;
  std::unique_ptr<http::ServerShard> shard_;
};

// A JSON answer's body as an object (a test failure when it is not one).
inline boost::json::object json_body(const http::Response& response) {
  return boost::json::parse(response.body()).as_object();
}

}  // namespace callgate::testing
