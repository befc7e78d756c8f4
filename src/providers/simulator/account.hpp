// The simulated provider account callgated serves itself when the simulator
// is in use: POST /simulator/calls takes a call (Twilio's Create-call shape:
// Basic auth, a form, 201 with a call sid), GET /simulator/calls lists the
// calls to a number, and each call then plays its script (call_script.hpp)
// over real HTTP against the daemon's public_base_url: the call flow fetched
// and answered, the status callbacks posted, each signed, each answer
// checked (callgate_simulator_requests_total{kind, result}).
//
// A call plays on the reactor that took it, through that reactor's HTTP
// client. It only ever calls URLs under server.public_base_url: the
// simulator is not a way to make callgated request anything else.
#pragma once

#include "core/spawn.hpp"

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "http/client/http_client.hpp"
#include "http/server/server_shard.hpp"
#include "providers/simulator/call_script.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

namespace callgate::providers::simulator {

struct AccountMetricIds {
  MetricId calls;     // callgate_simulator_calls_total{outcome}
  MetricId requests;  // callgate_simulator_requests_total{kind, result}
};
AccountMetricIds declare_account_metrics(MetricsRegistry& registry);

class SimulatedAccount {
 public:
  // At most this many calls play at once; more are refused with 429, as a
  // real account over its limit refuses them.
  static constexpr unsigned kMaxCallsPlaying = 10'000;

  // seed 0: a random one.
  SimulatedAccount(AccountMetricIds ids, std::uint64_t seed);
  // Calls still playing see the flag this sets and stop.
  ~SimulatedAccount();
  SimulatedAccount(const SimulatedAccount&) = delete;
  SimulatedAccount& operator=(const SimulatedAccount&) = delete;

  // Each reactor's HTTP client and metrics, before the reactors run.
  void attach(boost::asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics);
  // The account must outlive the router.
  void register_endpoints(http::HttpRouter& router);

 private:
  struct Lane {
    boost::asio::io_context* io = nullptr;
    http::HttpClient* client = nullptr;
    MetricsShard* metrics = nullptr;
  };
  struct ListedCall {
    std::string sid;
    std::string to;
    std::string from;
    std::string status;
    WallTime created;
  };

  boost::asio::awaitable<http::Response> create_call(http::RequestContext& context);
  boost::asio::awaitable<http::Response> list_calls(http::RequestContext& context);
  boost::asio::awaitable<void> play(SimulatedCall call, CallScript script, std::shared_ptr<const Config> config,
                                    Lane* lane);
  // The Gather answer, sent after a pause.
  boost::asio::awaitable<void> press_keys(http::ClientRequest request, std::chrono::milliseconds after, Lane* lane);
  // Sends one request of a call and counts whether its answer was the expected one.
  boost::asio::awaitable<http::ClientResponse> send(const http::ClientRequest& request, std::string_view kind,
                                                    Lane* lane);
  void set_listed_status(const std::string& sid, std::string status);
  Lane* lane_for(boost::asio::io_context& io);

  AccountMetricIds ids_;
  std::vector<Lane> lanes_;
  std::mutex mutex_;              // the call list and the generator; reactors share them
  std::deque<ListedCall> calls_;  // newest last, at most kListedCalls
  std::mt19937_64 random_;
  std::uint64_t seed_;
  std::uint64_t calls_taken_ = 0;
  std::shared_ptr<std::atomic<unsigned>> playing_ = std::make_shared<std::atomic<unsigned>>(0);
  StopSignal stopped_;  // when destroyed: its calls, on every lane, end at their next step
};

}  // namespace callgate::providers::simulator
