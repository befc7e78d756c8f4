#include "dialer/dialer.hpp"

#include "core/events/lead_events.hpp"

#include "core/log.hpp"
#include "providers/provider.hpp"
#include "providers/routing.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

namespace callgate::dialer {

using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kClaimBatch = 64;

std::string_view outcome_name(const providers::PlaceCallOutcome& outcome) {
  if (std::holds_alternative<providers::Placed>(outcome)) return "placed";
  if (std::holds_alternative<providers::Retryable>(outcome)) return "retryable";
  if (std::holds_alternative<providers::Ambiguous>(outcome)) return "ambiguous";
  return "rejected";
}

// The label of callgate_ambiguous_placements_settled_total{by} a check's end counts under, if any.
std::optional<std::string_view> settled_by_label(Why why) {
  switch (why) {
    case Why::settled_by_callback:
      return "callback";
    case Why::found_by_lookup:
      return "found";
    case Why::missing_called_again:
    case Why::missing_out_of_tries:
      return "missing";
    case Why::unsettled_gave_up:
      return "gave_up";
    default:
      return std::nullopt;
  }
}

}  // namespace

DialerMetricIds declare_dialer_metrics(MetricsRegistry& registry, MetricId calls_placed) {
  return {
      calls_placed,
      registry.declare_histogram("callgate_dial_lag_seconds", "From a dial's due time to its request to the provider.",
                                 {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      registry.declare_gauge("callgate_provider_breaker_state",
                             "Each provider's circuit breaker: 0 closed, 1 half open (probing), 2 open."),
      registry.declare_counter("callgate_ambiguous_placements_settled_total",
                               "Placements that may have rung, settled: by a callback, found in the provider's "
                               "list, proven missing (called again), or given up on.")};
}

Dialer::Dialer(boost::asio::io_context& home, DialScheduler& scheduler, store::LeadStore& store,
               std::function<std::shared_ptr<const Config>()> config, DialerMetricIds ids, const Clock& clock)
    : home_(home),
      scheduler_(scheduler),
      store_(store),
      config_(std::move(config)),
      ids_(ids),
      clock_(clock),
      wake_(home),
      claim_loop_stop_(home.get_executor()),
      sweep_stop_(home.get_executor()) {}

void Dialer::attach(boost::asio::io_context& reactor, providers::ProviderCalls& calls, MetricsShard& metrics) {
  auto lane = std::make_unique<Lane>();
  lane->io = &reactor;
  lane->calls = &calls;
  lane->metrics = &metrics;
  lanes_.push_back(std::move(lane));
}

Dialer::Lane& Dialer::lane_for(const boost::asio::execution_context& io) {
  for (auto& lane : lanes_)
    if (static_cast<const boost::asio::execution_context*>(lane->io) == &io) return *lane;
  return *lanes_.front();
}

void Dialer::start() {
  spawn_loop(
      home_, [this] { return claim_loop(); }, "dialer claim loop");
  spawn_loop(
      home_, [this] { return schedule_leads_left_without_a_job(); }, "dialer sweep for unscheduled leads");
}

void Dialer::stop() {
  claim_loop_stop_.stop();
  sweep_stop_.stop();
}

void Dialer::poke() {
  boost::asio::post(home_, [this] { wake_.cancel(); });
}

void Dialer::show_breaker(const ProviderName& provider) {
  const auto state = breaker(provider).state();
  const int value = state == CircuitBreaker::State::closed ? 0 : state == CircuitBreaker::State::half_open ? 1 : 2;
  // One series, kept in home's shard (the shards are summed on a scrape).
  boost::asio::post(home_, [this, provider, value] {
    lanes_.front()->metrics->gauge(ids_.breaker_state, {{"provider", std::string(to_string(provider))}}).set(value);
  });
}

CircuitBreaker& Dialer::breaker(const ProviderName& provider) {
  auto found = breakers_.find(provider);
  if (found == breakers_.end()) {
    found = breakers_.emplace(provider, CircuitBreaker(config_()->dialer.breaker)).first;
    show_breaker(provider);  // closed, from the first dial on
  }
  return found->second;
}

template <class Use>
auto Dialer::use_breaker(const ProviderName& provider, Use use) {
  std::lock_guard lock(breakers_mutex_);
  auto& chosen = breaker(provider);
  const auto before = chosen.state();
  const auto result = use(chosen);
  if (chosen.state() != before) show_breaker(provider);
  return result;
}

awaitable<store::StoreResult<bool>> Dialer::enqueue_first_call(const Lead& lead) {
  const auto config = config_();
  const auto now = clock_.now();
  auto first = decide_first_call(lead, now, config->dialer);
  if (first.claim_now) {
    // The job goes in claimed by this host and is worked at once, without
    // a round through the loop. A lead whose first call is already in the
    // dialer's hands (a repeated enquiry) changes nothing.
    auto claimed = co_await scheduler_.schedule_claimed(std::move(first.job), now, config->dialer.lease);
    if (const auto* error = std::get_if<store::StoreError>(&claimed)) co_return *error;
    if (auto& mine = std::get<std::optional<ClaimedJob>>(claimed)) {
      auto executor = co_await boost::asio::this_coro::executor;
      auto& lane = lane_for(boost::asio::query(executor, boost::asio::execution::context));
      spawn_task(*lane.io, work(std::move(*mine), &lane), "dialer placing a first call");
    }
    co_return true;
  }
  auto existing = co_await scheduler_.job_for(lead.id);
  if (const auto* job = std::get_if<std::optional<DialJob>>(&existing); job && job->has_value()) co_return true;
  auto scheduled = co_await scheduler_.schedule(std::move(first.job));
  if (const auto* error = std::get_if<store::StoreError>(&scheduled);
      error && error->failure == store::StoreFailure::conflict)
    co_return true;  // its first call is being placed right now
  if (std::holds_alternative<bool>(scheduled)) poke();
  co_return scheduled;
}

bool Dialer::calls_are_over(const Lead& lead) const {
  return dialer::calls_are_over(lead, clock_.now(), config_()->dialer);
}

awaitable<store::StoreResult<store::CreateResult>> Dialer::create_with_first_call(store::CreateRequest request) {
  if (together_ == nullptr) co_return co_await store_.create(std::move(request));
  const auto config = config_();
  const auto now = clock_.now();
  auto first = decide_first_call(request.lead, now, config->dialer);
  const auto lease = first.claim_now ? std::optional(config->dialer.lease) : std::nullopt;
  auto stored = co_await together_->create_with_first_job(std::move(request), std::move(first.job), now, lease);
  if (auto* error = std::get_if<store::StoreError>(&stored)) co_return *error;
  auto& made = std::get<LeadsWithFirstJobs::Stored>(stored);
  if (made.claimed) {
    // As enqueue_first_call: worked at once, on the reactor that took the enquiry.
    auto executor = co_await boost::asio::this_coro::executor;
    auto& lane = lane_for(boost::asio::query(executor, boost::asio::execution::context));
    spawn_task(*lane.io, work(std::move(*made.claimed), &lane), "dialer placing a first call");
  } else if (made.lead.created) {
    poke();
  }
  co_return std::move(made.lead);
}

awaitable<void> Dialer::call_ended(std::string lead_id, std::string call_sid) {
  const auto config = config_();
  auto got = co_await store_.get(lead_id);
  if (const auto* error = std::get_if<store::StoreError>(&got)) {
    LogLine(LogLevel::error, "redial_not_decided").trusted_text("lead_id", lead_id).text("reason", error->message);
    co_return;
  }
  const auto& lead = std::get<Lead>(got);
  const auto now = clock_.now();
  auto decision = decide_after_call_ended(lead, call_sid, now, config->dialer);
  if (decision.next == CallEndedDecision::Next::lead_done) {
    LogLine(LogLevel::info, "lead_done").trusted_text("lead_id", lead_id).trusted_text("reason", decision.reason);
    // A completed lead's event came with its call's status (lead.completed).
    if (events_ && lead.status != LeadStatus::completed)
      events_->emit_recorded(events::lead_failed_event(lead, decision.reason, now));
  }
  if (decision.next != CallEndedDecision::Next::redial) co_return;
  const auto call = decision.redial->call;
  const auto due = decision.redial->due;
  auto scheduled = co_await scheduler_.schedule(std::move(*decision.redial));
  if (const auto* error = std::get_if<store::StoreError>(&scheduled)) {
    if (error->failure != store::StoreFailure::conflict)
      LogLine(LogLevel::error, "redial_not_scheduled").trusted_text("lead_id", lead_id).text("reason", error->message);
    co_return;
  }
  if (events_) events_->emit_recorded(events::redial_scheduled_event(lead_id, call, due, decision.reason, now));
  LogLine(LogLevel::info, "redial_scheduled")
      .trusted_text("lead_id", lead_id)
      .number("call", call)
      .trusted_text("due", format_iso8601(due))
      .trusted_text("reason", decision.reason);
  poke();
}

awaitable<void> Dialer::schedule_leads_left_without_a_job() {
  const auto stop = sweep_stop_.token();
  boost::asio::steady_timer timer(home_);
  // Pending leads older than a day are left alone: an operator's business by then.
  constexpr auto kLookBack = std::chrono::hours(24);
  constexpr std::size_t kMaxPerSweep = 2'000;
  for (;;) {
    const auto every = config_()->dialer.unscheduled_lead_sweep;
    timer.expires_after(every);
    if (!co_await stop.wait(timer)) co_return;
    const auto now = clock_.now();
    store::LeadQuery query;
    query.status = LeadStatus::pending;
    query.created_since = now - kLookBack;
    query.limit = 500;
    for (std::size_t seen = 0; seen < kMaxPerSweep;) {
      auto page = co_await store_.list(query);
      if (std::holds_alternative<store::StoreError>(page)) break;  // the next sweep tries again
      auto& leads = std::get<store::LeadPage>(page);
      for (const auto& lead : leads.leads) {
        if (!lead.attempts.empty() || lead.created > now - every) continue;
        auto job = co_await scheduler_.job_for(lead.id);
        if (const auto* found = std::get_if<std::optional<DialJob>>(&job); !found || found->has_value()) continue;
        auto handed = co_await enqueue_first_call(lead);
        if (const auto* error = std::get_if<store::StoreError>(&handed)) {
          LogLine(LogLevel::warn, "unscheduled_lead_not_scheduled")
              .trusted_text("lead_id", lead.id)
              .text("reason", error->message);
          continue;
        }
        LogLine(LogLevel::warn, "unscheduled_lead_scheduled")
            .trusted_text("lead_id", lead.id)
            .trusted_text("detail",
                          "a pending lead had no call and no job (an enquiry answered 503 that was stored "
                          "after all, or a host lost between the two writes): its first call is scheduled");
      }
      seen += leads.leads.size();
      if (leads.next_cursor.empty()) break;
      query.after_id = leads.next_cursor;
    }
  }
}

awaitable<void> Dialer::claim_loop() {
  const auto stop = claim_loop_stop_.token();
  std::string claim_failure;  // why the latest claim failed, while it does
  for (;;) {
    const auto config = config_();
    // Jobs claimed as stop() comes are worked all the same: a claim left
    // alone would come back reclaimed, and be taken for a placement cut off.
    auto claimed = co_await scheduler_.claim_due(clock_.now(), kClaimBatch, config->dialer.lease);
    std::size_t count = 0;
    if (auto* jobs = std::get_if<std::vector<ClaimedJob>>(&claimed)) {
      count = jobs->size();
      for (auto& job : *jobs) spawn_task(home_, work(std::move(job), lanes_.front().get()), "dialer placing a call");
      if (!claim_failure.empty()) LogLine(LogLevel::info, "dial_jobs_claimed_again");
      claim_failure.clear();
    } else if (const auto& message = std::get<store::StoreError>(claimed).message; message != claim_failure) {
      // Once per outage (and per change of reason), not once a second.
      LogLine(LogLevel::error, "dial_jobs_not_claimed").text("reason", message);
      claim_failure = message;
    }
    if (count == kClaimBatch && !stop.stopped()) continue;  // more may be due already
    // Sleep until the next job is due (or a lease ends), or a poke.
    auto delay = scheduler_.longest_sleep();
    if (count == 0 && std::holds_alternative<store::StoreError>(claimed))
      delay = 1s;
    else if (const auto next = scheduler_.next_wake())
      delay = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_.now()),
                         std::chrono::milliseconds(0), delay);
    wake_.expires_after(delay);
    // A poke cancels the timer: a wake-up.
    if (!co_await stop.wait(wake_)) co_return;
  }
}

awaitable<void> Dialer::carry_out(const ClaimedJob& claimed, Finish finish, const std::string& phone,
                                  std::optional<CivilDate> counted_day) {
  const auto& lead_id = claimed.job.lead_id;
  if (finish.give_back_call && counted_day) {
    auto given = co_await scheduler_.give_back_call(phone, *counted_day);
    if (const auto* error = std::get_if<store::StoreError>(&given))
      LogLine(LogLevel::warn, "daily_call_not_given_back")
          .trusted_text("lead_id", lead_id)
          .text("reason", error->message)
          .trusted_text("detail", "the number counts one call more today than it had");
  }
  if (finish.record) {
    auto stored = co_await store_.add_attempt(lead_id, std::move(finish.record->attempt), finish.record->status);
    if (const auto* error = std::get_if<store::StoreError>(&stored))
      LogLine(LogLevel::error, "call_attempt_not_stored")
          .trusted_text("lead_id", lead_id)
          .text("reason", error->message);
  }
  const bool has_next = finish.next.has_value();
  auto done = co_await scheduler_.complete(claimed, std::move(finish.next));
  if (const auto* error = std::get_if<store::StoreError>(&done))
    LogLine(LogLevel::error, "dial_job_not_completed").trusted_text("lead_id", lead_id).text("reason", error->message);
  else if (has_next)
    poke();
}

awaitable<void> Dialer::work(ClaimedJob claimed, Lane* lane) {
  const auto config = config_();
  const auto now = clock_.now();
  auto got = co_await store_.get(claimed.job.lead_id);
  auto first = decide_claimed_job(claimed, got, now, config->dialer);
  if (std::holds_alternative<Settle>(first)) co_return co_await settle(claimed, std::get<Lead>(std::move(got)), lane);
  const std::string phone = std::holds_alternative<Lead>(got) ? std::get<Lead>(got).phone : std::string();
  if (auto* finish = std::get_if<Finish>(&first)) {
    if (finish->why == Why::already_placed)
      LogLine(LogLevel::warn, "dial_skipped")
          .trusted_text("lead_id", claimed.job.lead_id)
          .trusted_text("reason", "the call is already on the lead");
    if (finish->why == Why::worker_stopped)
      lane->metrics->counter(ids_.calls_placed, {{"provider", "unknown"}, {"outcome", "ambiguous"}}).increment();
    co_return co_await carry_out(claimed, std::move(*finish), phone, std::nullopt);
  }
  const auto& lead = std::get<Lead>(got);
  auto [job, has_slot] = std::get<Place>(std::move(first));

  // The route's providers in failover order: the first whose breaker lets the dial through.
  const providers::Provider* provider = nullptr;
  for (const auto& name : providers::providers_for_number(config->telephony, lead.phone)) {
    const auto* candidate = providers::find_provider(name);
    if (candidate && use_breaker(name, [this](CircuitBreaker& chosen) { return chosen.allows(clock_.steady_now()); })) {
      provider = candidate;
      break;
    }
  }
  if (!provider)
    co_return co_await carry_out(claimed, decide_no_provider(job, now, config->dialer), phone, std::nullopt);
  const auto provider_name = provider->name();
  const std::string provider_label(to_string(provider_name));

  // The number's calls today, across leads: one is taken now, given back if
  // the placement fails before anything rang.
  const auto counted_day = daily_cap_day(config->dialer, lead.phone, now);
  if (counted_day) {
    auto taken = co_await scheduler_.take_call(lead.phone, *counted_day, config->dialer.max_calls_per_number_per_day);
    std::optional<bool> answer;
    if (const auto* yes = std::get_if<bool>(&taken)) answer = *yes;
    if (auto capped = decide_after_daily_cap(job, lead.phone, now, answer, config->dialer))
      co_return co_await carry_out(claimed, std::move(*capped), lead.phone, std::nullopt);
  }

  // The account's pace: the call takes the account's next slot (shared by
  // every host on the scheduler); a later one moves the job there.
  if (const unsigned pace = provider->calls_per_minute(*config); pace > 0 && !has_slot) {
    auto reserved = co_await scheduler_.reserve_slot(provider_label, now, pace);
    std::variant<WallTime, std::string> slot;
    if (const auto* at = std::get_if<WallTime>(&reserved))
      slot = *at;
    else
      slot = std::get<store::StoreError>(reserved).message;
    if (auto paced = decide_after_pacing(job, provider_label, pace, now, slot, counted_day.has_value()))
      co_return co_await carry_out(claimed, std::move(*paced), lead.phone, counted_day);
  }

  lane->metrics->histogram(ids_.dial_lag).observe(std::chrono::duration<double>(now - job.due).count());
  // Named first: GCC 12 mishandles braced temporaries inside co_await expressions.
  providers::CallOrder order{lead.id, lead.phone};
  const auto outcome = co_await lane->calls->place_call(*provider, *config, std::move(order));
  lane->metrics->counter(ids_.calls_placed, {{"provider", provider_label}, {"outcome", outcome_name(outcome)}})
      .increment();
  LogLine(std::holds_alternative<providers::Placed>(outcome) ? LogLevel::info : LogLevel::warn, "call_placement")
      .trusted_text("lead_id", lead.id)
      .trusted_text("provider", provider_label)
      .number("call", job.call)
      .trusted_text("outcome", outcome_name(outcome));
  auto placed = decide_after_placement(job, lead, provider_label, outcome, now, counted_day.has_value(), config->dialer,
                                       lane->unit_random());
  // It answered, whatever it said; or it failed in a way worth trying again.
  use_breaker(provider_name, [this, failed = placed.provider_failed](CircuitBreaker& chosen) {
    if (failed)
      chosen.record_retryable_failure(clock_.steady_now());
    else
      chosen.record_success();
    return true;
  });
  co_await carry_out(claimed, std::move(placed.finish), lead.phone, counted_day);
}

awaitable<void> Dialer::settle(ClaimedJob claimed, Lead lead, Lane* lane) {
  const auto config = config_();
  const auto& job = claimed.job;
  const auto now = clock_.now();
  auto count_settled = [&](Why why) {
    if (const auto label = settled_by_label(why))
      lane->metrics->counter(ids_.ambiguous_settled, {{"by", std::string(*label)}}).increment();
  };
  if (settled_by_callback(job, lead)) {
    LogLine(LogLevel::info, "ambiguous_call_settled")
        .trusted_text("lead_id", lead.id)
        .number("call", job.call)
        .trusted_text("by", "callback");
    count_settled(Why::settled_by_callback);
    co_return co_await carry_out(claimed, Finish{Why::settled_by_callback, std::nullopt, std::nullopt}, lead.phone,
                                 std::nullopt);
  }
  std::vector<ProviderName> built;
  for (const auto& name : providers::providers_for_number(config->telephony, lead.phone))
    if (providers::find_provider(name)) built.push_back(name);
  const auto asked = providers_to_ask(*job.check, built);
  const auto lookup = lookup_for(lead, *job.check);
  LookupsAnswer answer;
  answer.answered = !asked.empty();
  if (asked.empty()) answer.failure = "no provider of the route is built";
  for (const auto& name : asked) {
    const auto* provider = providers::find_provider(name);
    auto question = lookup;  // named first: GCC 12 and temporaries in co_await
    const auto outcome = co_await lane->calls->find_calls(*provider, *config, std::move(question));
    answer.settles_after = std::max(answer.settles_after, provider->lookup_settles_after(*config));
    if (const auto* found = std::get_if<providers::FoundCall>(&outcome)) {
      // The provider's answer, applied as a callback naming the lead would
      // be: it gives the ambiguous attempt its call sid and status.
      const auto event = event_for_found_call(lead.id, to_string(name), *found);
      auto applied = co_await store_.apply_event(event, clock_.now());
      if (const auto* error = std::get_if<store::StoreError>(&applied)) {
        // Not attached: look again soon (the store is away); never dial.
        LogLine(LogLevel::error, "ambiguous_call_not_attached")
            .trusted_text("lead_id", lead.id)
            .text("reason", error->message);
        auto again = job;
        again.due = clock_.now() + 5s;
        co_return co_await carry_out(claimed, Finish{Why::attach_failed, std::nullopt, std::move(again)}, lead.phone,
                                     std::nullopt);
      }
      count_settled(Why::found_by_lookup);
      LogLine(LogLevel::info, "ambiguous_call_settled")
          .trusted_text("lead_id", lead.id)
          .number("call", job.call)
          .trusted_text("by", "lookup: the provider has the call")
          .trusted_text("provider", event.provider);
      co_await carry_out(claimed, Finish{Why::found_by_lookup, std::nullopt, std::nullopt}, lead.phone, std::nullopt);
      // An ended call's redial is decided as a callback's would be.
      if (std::get<store::ApplyResult>(applied).outcome == EventOutcome::applied && is_terminal(event.status))
        co_await call_ended(lead.id, found->call_sid);
      co_return;
    }
    if (const auto* failed = std::get_if<providers::LookupFailed>(&outcome)) {
      answer.answered = false;
      answer.failure = std::string(to_string(name)) + ": " + failed->reason;
    }
  }
  auto finish = decide_after_lookups(job, lead, answer, now, config->dialer, lane->unit_random());
  count_settled(finish.why);
  if (finish.why == Why::missing_called_again || finish.why == Why::missing_out_of_tries)
    LogLine(LogLevel::warn, "ambiguous_call_settled")
        .trusted_text("lead_id", lead.id)
        .number("call", job.call)
        .trusted_text("by", "lookup: the provider has no such call; calling again");
  co_await carry_out(claimed, std::move(finish), lead.phone, std::nullopt);
}

}  // namespace callgate::dialer
