// The running daemon: builds the reactors and their listeners from a loaded
// Config, then serves until SIGTERM/SIGINT, reloading on SIGHUP and keeping
// systemd informed (READY, RELOADING, STOPPING, WATCHDOG).
//
// The main thread runs a small control loop of its own (signals, watchdog,
// drain deadline); it never serves requests.
#pragma once

#include "aws/dynamodb_dial_scheduler.hpp"
#include "core/dialer/embedded_dial_scheduler.hpp"
#include "core/dialer/redis_dial_scheduler.hpp"
#include "daemon/dynamodb_start.hpp"
#include "dialer/dialer.hpp"
#include "events/event_delivery.hpp"

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/reactor.hpp"
#include "core/store/event_spool.hpp"
#include "core/store/lead_store.hpp"
#include "daemon/systemd_notifier.hpp"
#include "http/client/connection_warmer.hpp"
#include "http/client/http_client.hpp"
#include "http/endpoints/lead_endpoints.hpp"
#include "http/server/builtin_endpoints.hpp"
#include "http/server/listener.hpp"
#include "http/server/server_shard.hpp"
#include "providers/provider_calls.hpp"
#include "providers/simulator/account.hpp"
#include "providers/webhook_endpoints.hpp"
#include "voice/media_gateway.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace callgate {

class Daemon {
 public:
  Daemon(std::string config_path, Config config, SystemdNotifier notifier);
  ~Daemon();

  // Binds, serves, and returns the process exit code once stopped.
  // Throws on start-up failures (the address is taken, for instance).
  int run();

 private:
  struct ReactorParts {
    std::unique_ptr<Reactor> reactor;
    std::unique_ptr<http::ServerShard> shard;
    std::unique_ptr<http::Listener> listener;
    std::unique_ptr<http::HttpClient> http_client;                     // provider calls from this reactor
    std::unique_ptr<providers::ProviderCallsOverHttp> provider_calls;  // the dialer's, over http_client
  };

  void build();
  // What each reactor's HTTPS client keeps open ahead of calls: the API
  // hosts of the providers in use (http_client.warm_connections).
  http::WarmPlan connections_to_keep_warm() const;
  void warn_if_simulator_calls_elsewhere() const;
  void declare_dynamodb_metrics();
  // The outbox's records and durability through the store, its delivery, its endpoints.
  void build_event_delivery();
  http::WarmPlan dynamodb_connections_to_keep_warm() const;
  void wait_for_signals();
  void reload();
  void begin_shutdown();
  void on_reactor_drained();
  void finish(int exit_code);
  void schedule_watchdog();
  void watchdog_tick(std::chrono::milliseconds interval);

  std::string config_path_;
  Config config_;                // as configured (port 0 stays 0)
  ListenAddress bound_address_;  // as bound (port 0 resolved)
  SystemdNotifier notifier_;

  boost::asio::io_context control_{1};
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer drain_timer_;

  MetricsRegistry metrics_;
  http::HttpMetricIds http_metric_ids_;
  providers::WebhookMetricIds webhook_metric_ids_;
  // Lead events (events.endpoints): the outbox outlives the store that tells it of changes.
  std::unique_ptr<events::EventOutbox> outbox_;
  std::unique_ptr<store::LeadStore> store_;
  std::unique_ptr<store::EventSpool> spool_;  // only with a networked store (redis, dynamodb)
  std::optional<DynamoDbStart> dynamodb_;     // with the dynamodb store: its credentials
  std::unique_ptr<StopSignal> credentials_refresh_stop_;
  // Whether the spool carries the webhooks while the store is away (/readyz).
  std::function<bool()> spool_carries_;
  http::LeadMetricIds lead_metric_ids_;
  std::unique_ptr<http::SharedRateLimiter> rate_limiter_;
  std::unique_ptr<http::SharedRateLimiter> status_rate_limiter_;
  std::unique_ptr<http::LeadServices> lead_services_;
  std::unique_ptr<dialer::EmbeddedDialScheduler> embedded_scheduler_;  // one of these three is built
  std::unique_ptr<dialer::RedisDialScheduler> redis_scheduler_;
  std::unique_ptr<aws::DynamoDialScheduler> dynamodb_scheduler_;
  std::unique_ptr<aws::DynamoLeadsWithFirstJobs> dynamodb_first_jobs_;     // an enquiry and its job in one write
  std::unique_ptr<dialer::JournalLeadsWithFirstJobs> journal_first_jobs_;  // an enquiry and its job, one wait
  dialer::DialScheduler* scheduler_ = nullptr;
  std::unique_ptr<dialer::Dialer> dialer_;
  std::unique_ptr<providers::simulator::SimulatedAccount> simulated_account_;  // only with the simulator in use
  std::unique_ptr<voice::MediaGateway> media_gateway_;
  providers::StreamTokenIssuer stream_tokens_;             // the gateway's, for the call flows the providers serve
  providers::RecordingFetcher fetch_recording_;            // the gateway's, for the providers' recording callbacks
  std::unique_ptr<events::EventDelivery> event_delivery_;  // with events.endpoints
  events::EventMetricIds event_metric_ids_{};
  // The running config for threads other than the reactors' own (the
  // dialer is called from every reactor); replaced whole on reload.
  std::atomic<std::shared_ptr<const Config>> shared_config_;
  http::HttpRouter router_;
  std::vector<http::ReadinessCheck> readiness_checks_;
  http::ConnectionsByAddress connections_by_address_;  // shared by every reactor's shard
  std::vector<ReactorParts> reactors_;

  bool shutting_down_ = false;
  std::size_t reactors_drained_ = 0;
  int exit_code_ = 0;
};

}  // namespace callgate
