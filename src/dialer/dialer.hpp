// The dialer at work: it takes due jobs from the scheduler (a new lead's
// first call, a retry, a redial), and for each asks decisions.hpp what to
// do at every step (look at the lead and its calling hours, pick a provider
// whose breaker lets it through, count the number's calls today, take the
// account's pacing slot, place the call, settle an ambiguous one) and does
// it: reads and writes the store and the scheduler, asks the provider. It
// decides nothing itself.
//
// Time comes from a Clock and the providers are reached through
// ProviderCalls, so a test can run the loop with neither a real clock nor a
// network (tests/unit/dialer/dialer_test.cpp).
//
// Stopping: stop() ends the claim loop and the sweep where they wait (Asio
// cancellation, core/spawn.hpp's StopSignal); claims and placements already
// under way go on to their end. The Dialer must outlive
// every reactor loop it runs on: destroy it only once they no longer run
// (the daemon joins the reactors first), since a coroutine of its own may
// still be parked in them.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/dialer/circuit_breaker.hpp"
#include "core/dialer/dial_scheduler.hpp"
#include "core/dialer/dialer_hand_offs.hpp"
#include "core/events/event_outbox.hpp"
#include "core/metrics.hpp"
#include "core/spawn.hpp"
#include "core/store/lead_store.hpp"
#include "dialer/decisions.hpp"
#include "providers/provider_calls.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

namespace callgate::dialer {

struct DialerMetricIds {
  MetricId calls_placed;       // callgate_calls_placed_total{provider, outcome}
  MetricId dial_lag;           // callgate_dial_lag_seconds: due time to the provider request
  MetricId breaker_state;      // callgate_provider_breaker_state{provider}: 0 closed, 1 half open, 2 open
  MetricId ambiguous_settled;  // callgate_ambiguous_placements_settled_total{by}
};
DialerMetricIds declare_dialer_metrics(MetricsRegistry& registry, MetricId calls_placed);

class Dialer final : public FirstCallQueue, public CallEndings {
 public:
  // Its loop runs on home (one reactor). attach() gives it each reactor's
  // way to the providers and metrics shard (made later than the endpoints
  // that call it), home's first: a new enquiry's call is placed on the
  // reactor that took the enquiry, a job from the loop on home.
  Dialer(boost::asio::io_context& home, DialScheduler& scheduler, store::LeadStore& store,
         std::function<std::shared_ptr<const Config>()> config, DialerMetricIds ids,
         const Clock& clock = system_clock());
  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;
  void attach(boost::asio::io_context& reactor, providers::ProviderCalls& calls, MetricsShard& metrics);

  // The claim loop and the sweep for leads left without a job, on home.
  void start();
  // Ends them; what is being placed goes on. Any thread.
  void stop();

  boost::asio::awaitable<store::StoreResult<bool>> enqueue_first_call(const Lead& lead) override;
  bool calls_are_over(const Lead& lead) const override;
  bool stores_first_call_with_lead() const override { return together_ != nullptr; }
  boost::asio::awaitable<store::StoreResult<store::CreateResult>> create_with_first_call(
      store::CreateRequest request) override;
  // From now on a new lead's first job is written with the lead (the
  // scheduler's jobs live beside the leads). Before start().
  void keep_first_jobs_with_leads(LeadsWithFirstJobs& together) { together_ = &together; }
  // The decisions after a call (a redial, or no more calls) become lead
  // events there (lead.redial_scheduled, lead.failed). Set before start().
  void tell_decisions_to(events::EventOutbox& outbox) { events_ = &outbox; }
  boost::asio::awaitable<void> call_ended(std::string lead_id, std::string call_sid) override;
  // A job may be due now: wake the loop. Any thread.
  void poke();

 private:
  // What placing calls on one reactor uses; touched on that reactor only.
  struct Lane {
    boost::asio::io_context* io = nullptr;
    providers::ProviderCalls* calls = nullptr;
    MetricsShard* metrics = nullptr;
    std::mt19937_64 random{std::random_device{}()};
    double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }
  };
  Lane& lane_for(const boost::asio::execution_context& io);  // home's lane for a loop with none

  boost::asio::awaitable<void> claim_loop();
  // Leads stored without their first call's job get one (dialer.unscheduled_lead_sweep).
  boost::asio::awaitable<void> schedule_leads_left_without_a_job();

  // Works a claimed job, step by step (decisions.hpp).
  boost::asio::awaitable<void> work(ClaimedJob claimed, Lane* lane);
  // Works a check job: did the ambiguous call ring?
  boost::asio::awaitable<void> settle(ClaimedJob claimed, Lead lead, Lane* lane);
  // Records the attempt it carries, gives back a counted call, completes the
  // claim with the next job; logs what a failure of each leaves behind.
  boost::asio::awaitable<void> carry_out(const ClaimedJob& claimed, Finish finish, const std::string& phone,
                                         std::optional<CivilDate> counted_day);

  // The breakers are shared by the lanes (one account, one state).
  // use_breaker runs use(breaker) under the lock and shows a changed state.
  template <class Use>
  auto use_breaker(const ProviderName& provider, Use use);
  CircuitBreaker& breaker(const ProviderName& provider);  // under breakers_mutex_
  void show_breaker(const ProviderName& provider);        // under breakers_mutex_: its state into /metrics (on home)

  boost::asio::io_context& home_;
  DialScheduler& scheduler_;
  store::LeadStore& store_;
  LeadsWithFirstJobs* together_ = nullptr;
  events::EventOutbox* events_ = nullptr;
  std::function<std::shared_ptr<const Config>()> config_;
  DialerMetricIds ids_;
  const Clock& clock_;
  boost::asio::steady_timer wake_;
  StopSignal claim_loop_stop_;  // both loops run on home
  StopSignal sweep_stop_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // attach order: home's first
  std::mutex breakers_mutex_;
  std::map<ProviderName, CircuitBreaker> breakers_;
};

}  // namespace callgate::dialer
