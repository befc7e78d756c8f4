// The dialer at work: it takes due jobs from the scheduler (a new lead's
// first call, a retry, a redial), checks the lead and its calling hours,
// picks a provider whose breaker lets it through, places the call, records
// the attempt on the lead, and puts the lead's next job in place: a retry
// with backoff after a retryable failure, nothing after a placed, ambiguous
// or rejected one. When a call ends unanswered, call_ended() schedules the
// redial. The decisions are the pure policies of src/core/dialer; this class
// carries them out.
//
// Never twice for one attempt: a job's worker first looks at the lead, and a
// call the lead already has an attempt for is not placed again. A placement
// that may have rung (the provider took the request and no answer came, or
// a job whose lease ran out while claimed: its worker stopped mid-placement)
// is recorded as ambiguous and settled before anything rings again: a
// callback naming the lead fills it in, else the provider's call list is
// asked after a grace period, and only a list complete without the call
// lets the dialer call again.
#pragma once

#include "core/config.hpp"
#include "core/dialer/dial_scheduler.hpp"
#include "core/dialer/dialer_hand_offs.hpp"
#include "core/dialer/circuit_breaker.hpp"
#include "core/metrics.hpp"
#include "core/store/lead_store.hpp"
#include "providers/place_call_outcome.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <random>
#include <vector>

namespace callgate::dialer {

struct DialerMetricIds {
  MetricId calls_placed;   // callgate_calls_placed_total{provider, outcome}
  MetricId dial_lag;       // callgate_dial_lag_seconds: due time to the provider request
  MetricId breaker_state;  // callgate_provider_breaker_state{provider}: 0 closed, 1 half open, 2 open
  MetricId ambiguous_settled;  // callgate_ambiguous_placements_settled_total{by}
};
DialerMetricIds declare_dialer_metrics(MetricsRegistry& registry, MetricId calls_placed);

class Dialer final : public FirstCallQueue, public CallEndings {
 public:
  // Its loop runs on home (one reactor). attach() gives it each reactor's
  // HTTPS client and metrics shard (made later than the endpoints that call
  // it), home's first: a new enquiry's call is placed on the reactor that
  // took the enquiry, a job from the loop on home.
  Dialer(boost::asio::io_context& home, DialScheduler& scheduler, LeadStore& store,
         std::function<std::shared_ptr<const Config>()> config, DialerMetricIds ids);
  // Its coroutines still parked in the loop see the flag this sets and end
  // without touching it.
  ~Dialer();
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;
  void attach(boost::asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics);

  // The loop, on home; and on every reactor, its connections to the
  // providers in use opened and kept fresh (http_client.warm_connections).
  void start();

  // A new lead's first call, at the next calling time. Any thread.
  boost::asio::awaitable<StoreResult<bool>> enqueue_first_call(const Lead& lead) override;
  // A status callback moved a lead's call to a final status: redial or not.
  // Any thread.
  boost::asio::awaitable<void> call_ended(std::string lead_id, std::string call_sid) override;
  // A job may be due now: wake the loop. Any thread.
  void poke();

 private:
  // What placing calls on one reactor uses; touched on that reactor only.
  struct Lane {
    boost::asio::io_context* io = nullptr;
    http::HttpClient* client = nullptr;
    MetricsShard* metrics = nullptr;
    std::mt19937_64 random{std::random_device{}()};
  };
  Lane& lane_for(const boost::asio::execution_context& io);  // home's lane for a loop with none

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> keep_connections_warm(Lane* lane);
  // Leads stored without their first call's job get one (see
  // dialer.unscheduled_lead_sweep).
  boost::asio::awaitable<void> schedule_leads_left_without_a_job();
  boost::asio::awaitable<void> work(ClaimedJob claimed, Lane* lane);
  // Completes the claim; with next, the lead's next job takes its place.
  boost::asio::awaitable<void> finish(const ClaimedJob& claimed, const DialJob* next);
  boost::asio::awaitable<void> record(const std::string& lead_id, Attempt attempt, LeadStatus status);
  // When a call that failed `failures` times may be tried again (the retry
  // policy's backoff, then the calling hours); nothing when its tries are used up.
  static std::optional<WallTime> retry_due(const Config& config, const std::string& phone, int failures,
                                           std::optional<std::chrono::milliseconds> retry_after, WallTime now,
                                           Lane& lane);
  // The job that settles an ambiguous placement of placing's call.
  static DialJob check_job(const DialJob& placing, std::string provider, WallTime since,
                                   const Config& config);
  // Works a check job: did the call ring? (dial_policy.hpp's AmbiguousPolicy)
  boost::asio::awaitable<void> settle(ClaimedJob claimed, Lead lead, Lane* lane);
  boost::asio::awaitable<void> attach_found_call(const ClaimedJob& claimed, std::string lead_id,
                                                 ProviderName provider, FoundCall found);
  // The breakers are shared by the lanes (one account, one state).
  // use_breaker runs use(breaker) under the lock and shows a changed state.
  template <class Use>
  auto use_breaker(ProviderName provider, Use use);
  bool breaker_allows(ProviderName provider);
  void breaker_failed(ProviderName provider);
  void breaker_succeeded(ProviderName provider);
  CircuitBreaker& breaker(ProviderName provider);  // under breakers_mutex_
  void show_breaker(ProviderName provider);  // under breakers_mutex_: its state into /metrics (on home)

  boost::asio::io_context& home_;
  DialScheduler& scheduler_;
  LeadStore& store_;
  std::function<std::shared_ptr<const Config>()> config_;
  DialerMetricIds ids_;
  boost::asio::steady_timer wake_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // attach order: home's first
  std::mutex breakers_mutex_;
  std::map<ProviderName, CircuitBreaker> breakers_;
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace callgate::dialer
