#include "dialer/dialer.hpp"

#include "core/dialer/calling_hours.hpp"
#include "core/dialer/dial_policy.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "providers/provider.hpp"
#include "providers/routing.hpp"
#include "providers/webhook_endpoints.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace callgate::dialer {

using namespace providers;

using boost::asio::awaitable;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kClaimBatch = 64;

UnixSeconds unix_seconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}
WallTime wall_time(UnixSeconds seconds) { return WallTime(std::chrono::seconds(seconds)); }

// The first moment at or after `at` the number may be called (to the second).
std::optional<WallTime> calling_time(const Config& config, const std::string& phone, WallTime at) {
  const auto& window = config.dialer.calling_hours.for_number(phone);
  const auto allowed = next_calling_time(window, unix_seconds(at));
  if (!allowed) return std::nullopt;
  return *allowed <= unix_seconds(at) ? at : wall_time(*allowed);
}

std::string_view outcome_name(const PlaceCallOutcome& outcome) {
  if (std::holds_alternative<Placed>(outcome)) return "placed";
  if (std::holds_alternative<Retryable>(outcome)) return "retryable";
  if (std::holds_alternative<Ambiguous>(outcome)) return "ambiguous";
  return "rejected";
}

}  // namespace

DialerMetricIds declare_dialer_metrics(MetricsRegistry& registry, MetricId calls_placed) {
  return {calls_placed,
          registry.declare_histogram("callgate_dial_lag_seconds",
                                     "From a dial's due time to its request to the provider.",
                                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
          registry.declare_gauge("callgate_provider_breaker_state",
                                 "Each provider's circuit breaker: 0 closed, 1 half open (probing), 2 open."),
          registry.declare_counter("callgate_ambiguous_placements_settled_total",
                                   "Placements that may have rung, settled: by a callback, found in the provider's "
                                   "list, proven missing (called again), or given up on.")};
}

Dialer::Dialer(boost::asio::io_context& home, DialScheduler& scheduler, LeadStore& store,
               std::function<std::shared_ptr<const Config>()> config, DialerMetricIds ids)
    : home_(home), scheduler_(scheduler), store_(store), config_(std::move(config)), ids_(ids), wake_(home) {}

Dialer::~Dialer() { *stopped_ = true; }

void Dialer::attach(boost::asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics) {
  auto lane = std::make_unique<Lane>();
  lane->io = &reactor;
  lane->client = &client;
  lane->metrics = &metrics;
  lanes_.push_back(std::move(lane));
}

Dialer::Lane& Dialer::lane_for(const boost::asio::execution_context& io) {
  for (auto& lane : lanes_)
    if (static_cast<const boost::asio::execution_context*>(lane->io) == &io) return *lane;
  return *lanes_.front();
}

void Dialer::start() {
  spawn_loop(home_, [this] { return run(); }, "dialer claim loop");
  spawn_loop(home_, [this] { return schedule_leads_left_without_a_job(); }, "dialer sweep for unscheduled leads");
  for (auto& lane : lanes_)
    spawn_loop(*lane->io, [this, lane = lane.get()] { return keep_connections_warm(lane); }, "dialer connection warm-up");
}

awaitable<void> Dialer::keep_connections_warm(Lane* lane) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  std::map<std::string, std::string> failures;  // by API base: the failure logged last, once per outage
  boost::asio::steady_timer timer(*lane->io);
  while (!*stopped) {
    const auto config = config_();
    const auto& client = config->telephony.http_client;
    // Without reuse (idle_timeout 0) a connection opened ahead is never used.
    if (client.warm_connections == 0 || client.idle_timeout == Milliseconds::zero()) co_return;
    for (const auto* provider : all_providers()) {
      if (!provider_in_use(config->telephony, provider->name())) continue;
      const auto base = provider->api_base(*config);
      if (base.empty()) continue;
      const auto warmed = co_await lane->client->keep_warm(base, client.warm_connections);
      if (*stopped) co_return;
      auto& logged = failures[base];
      if (!warmed.failure.empty() && warmed.failure != logged)
        LogLine(LogLevel::warn, "provider_connections_not_opened")
            .trusted_text("provider", to_string(provider->name()))
            .text("reason", warmed.failure)
            .trusted_text("detail", "calls will open their own connections; tried again every half idle_timeout");
      else if (warmed.failure.empty() && !logged.empty())
        LogLine(LogLevel::info, "provider_connections_opened").trusted_text("provider", to_string(provider->name()));
      logged = warmed.failure;
    }
    timer.expires_after(std::max<std::chrono::milliseconds>(client.idle_timeout / 2, 1s));
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

void Dialer::poke() {
  boost::asio::post(home_, [this, stopped = stopped_] {
    if (!*stopped) wake_.cancel();
  });
}

void Dialer::show_breaker(ProviderName provider) {
  const auto state = breaker(provider).state();
  const int value = state == CircuitBreaker::State::closed ? 0 : state == CircuitBreaker::State::half_open ? 1 : 2;
  // One series, kept in home's shard (the shards are summed on a scrape).
  boost::asio::post(home_, [this, stopped = stopped_, provider, value] {
    if (*stopped) return;
    lanes_.front()->metrics->gauge(ids_.breaker_state, {{"provider", std::string(to_string(provider))}}).set(value);
  });
}

CircuitBreaker& Dialer::breaker(ProviderName provider) {
  auto found = breakers_.find(provider);
  if (found == breakers_.end()) {
    found = breakers_.emplace(provider, CircuitBreaker(config_()->dialer.breaker)).first;
    show_breaker(provider);  // closed, from the first dial on
  }
  return found->second;
}

template <class Use>
auto Dialer::use_breaker(ProviderName provider, Use use) {
  std::lock_guard lock(breakers_mutex_);
  auto& chosen = breaker(provider);
  const auto before = chosen.state();
  const auto result = use(chosen);
  if (chosen.state() != before) show_breaker(provider);
  return result;
}

bool Dialer::breaker_allows(ProviderName provider) {
  return use_breaker(provider, [](CircuitBreaker& chosen) { return chosen.allows(std::chrono::steady_clock::now()); });
}

void Dialer::breaker_failed(ProviderName provider) {
  use_breaker(provider, [](CircuitBreaker& chosen) {
    chosen.record_retryable_failure(std::chrono::steady_clock::now());
    return true;
  });
}

void Dialer::breaker_succeeded(ProviderName provider) {
  use_breaker(provider, [](CircuitBreaker& chosen) {
    chosen.record_success();
    return true;
  });
}

std::optional<WallTime> Dialer::retry_due(const Config& config, const std::string& phone, int failures,
                                          std::optional<std::chrono::milliseconds> retry_after, WallTime now,
                                          Lane& lane) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto delay = retry_delay(config.dialer.retry, failures, retry_after, unit(lane.random));
  if (!delay) return std::nullopt;
  return calling_time(config, phone, now + *delay);
}

awaitable<StoreResult<bool>> Dialer::enqueue_first_call(const Lead& lead) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  const auto config = config_();
  const auto now = WallClock::now();
  const auto due = calling_time(*config, lead.phone, now);
  if (!due || *due <= now) {
    // Callable now (or never: the worker records why it stops): the job goes
    // in claimed by this host and is worked at once, without a round through
    // the loop. A lead whose first call is already in the dialer's hands
    // (a repeated enquiry) changes nothing.
    auto job = dial_job(lead.id, 1, now, "enquiry");
    auto claimed = co_await scheduler_.schedule_claimed(std::move(job), now, config->dialer.lease);
    if (*stopped) co_return true;
    if (const auto* error = std::get_if<StoreError>(&claimed)) co_return *error;
    if (auto& mine = std::get<std::optional<ClaimedJob>>(claimed)) {
      auto executor = co_await boost::asio::this_coro::executor;
      auto& lane = lane_for(boost::asio::query(executor, boost::asio::execution::context));
      spawn_task(*lane.io, work(std::move(*mine), &lane), "dialer placing a first call");
    }
    co_return true;
  }
  auto existing = co_await scheduler_.job_for(lead.id);
  if (*stopped) co_return true;
  if (const auto* job = std::get_if<std::optional<DialJob>>(&existing); job && job->has_value()) co_return true;
  auto job = dial_job(lead.id, 1, *due, "enquiry (held for calling hours)");
  auto scheduled = co_await scheduler_.schedule(std::move(job));
  if (*stopped) co_return scheduled;
  if (const auto* error = std::get_if<StoreError>(&scheduled); error && error->failure == StoreFailure::conflict)
    co_return true;  // its first call is being placed right now
  if (std::holds_alternative<bool>(scheduled)) poke();
  co_return scheduled;
}

awaitable<void> Dialer::call_ended(std::string lead_id, std::string call_sid) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  const auto config = config_();
  auto got = co_await store_.get(lead_id);
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&got)) {
    LogLine(LogLevel::error, "redial_not_decided").trusted_text("lead_id", lead_id).text("reason", error->message);
    co_return;
  }
  const auto& lead = std::get<Lead>(got);
  if (lead.attempts.empty()) co_return;
  const auto& last = lead.attempts.back();
  // Only the latest call's end decides; a late callback of an earlier one does not.
  if (last.call_sid != call_sid || !last.status || !ends_a_call(*last.status)) co_return;
  const int calls = static_cast<int>(lead.attempts.size());
  const auto decision = decide_redial(config->dialer.redial, *last.status, last.answered_by, calls);
  if (!decision.redial_after) {
    LogLine(LogLevel::info, "lead_done").trusted_text("lead_id", lead_id).trusted_text("reason", decision.reason);
    co_return;
  }
  const auto due = calling_time(*config, lead.phone, WallClock::now() + *decision.redial_after);
  if (!due) co_return;
  auto redial = dial_job(lead_id, calls + 1, *due, "redial: " + decision.reason);
  auto scheduled = co_await scheduler_.schedule(std::move(redial));
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&scheduled)) {
    if (error->failure != StoreFailure::conflict)
      LogLine(LogLevel::error, "redial_not_scheduled").trusted_text("lead_id", lead_id).text("reason", error->message);
    co_return;
  }
  LogLine(LogLevel::info, "redial_scheduled")
      .trusted_text("lead_id", lead_id)
      .number("call", calls + 1)
      .trusted_text("due", format_iso8601(*due))
      .trusted_text("reason", decision.reason);
  poke();
}

awaitable<void> Dialer::schedule_leads_left_without_a_job() {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  boost::asio::steady_timer timer(home_);
  // Pending leads older than a day are left alone: an operator's business by then.
  constexpr auto kLookBack = std::chrono::hours(24);
  constexpr std::size_t kMaxPerSweep = 2'000;
  while (!*stopped) {
    const auto every = config_()->dialer.unscheduled_lead_sweep;
    timer.expires_after(every);
    auto [waited] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (waited || *stopped) co_return;
    const auto now = WallClock::now();
    LeadQuery query;
    query.status = LeadStatus::pending;
    query.created_since = now - kLookBack;
    query.limit = 500;
    for (std::size_t seen = 0; seen < kMaxPerSweep;) {
      auto page = co_await store_.list(query);
      if (*stopped) co_return;
      if (std::holds_alternative<StoreError>(page)) break;  // the next sweep tries again
      auto& leads = std::get<LeadPage>(page);
      for (const auto& lead : leads.leads) {
        if (!lead.attempts.empty() || lead.created > now - every) continue;
        auto job = co_await scheduler_.job_for(lead.id);
        if (*stopped) co_return;
        if (const auto* found = std::get_if<std::optional<DialJob>>(&job); !found || found->has_value()) continue;
        auto handed = co_await enqueue_first_call(lead);
        if (*stopped) co_return;
        if (const auto* error = std::get_if<StoreError>(&handed)) {
          LogLine(LogLevel::warn, "unscheduled_lead_not_scheduled").trusted_text("lead_id", lead.id).text("reason", error->message);
          continue;
        }
        LogLine(LogLevel::warn, "unscheduled_lead_scheduled")
            .trusted_text("lead_id", lead.id)
            .trusted_text("detail", "a pending lead had no call and no job (an enquiry answered 503 that was stored "
                                    "after all, or a host lost between the two writes): its first call is scheduled");
      }
      seen += leads.leads.size();
      if (leads.next_cursor.empty()) break;
      query.after_id = leads.next_cursor;
    }
  }
}

awaitable<void> Dialer::run() {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  std::string claim_failure;      // why the latest claim failed, while it does
  while (!*stopped) {
    const auto config = config_();
    auto claimed = co_await scheduler_.claim_due(WallClock::now(), kClaimBatch, config->dialer.lease);
    if (*stopped) co_return;
    std::size_t count = 0;
    if (auto* jobs = std::get_if<std::vector<ClaimedJob>>(&claimed)) {
      count = jobs->size();
      for (auto& job : *jobs) spawn_task(home_, work(std::move(job), lanes_.front().get()), "dialer placing a call");
      if (!claim_failure.empty()) LogLine(LogLevel::info, "dial_jobs_claimed_again");
      claim_failure.clear();
    } else if (const auto& message = std::get<StoreError>(claimed).message; message != claim_failure) {
      // Once per outage (and per change of reason), not once a second.
      LogLine(LogLevel::error, "dial_jobs_not_claimed").text("reason", message);
      claim_failure = message;
    }
    if (count == kClaimBatch) continue;  // more may be due already
    // Sleep until the next job is due (or a lease ends), or a poke.
    auto delay = scheduler_.longest_sleep();
    if (count == 0 && std::holds_alternative<StoreError>(claimed)) delay = 1s;
    else if (const auto next = scheduler_.next_wake())
      delay = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - WallClock::now()),
                         std::chrono::milliseconds(0), delay);
    wake_.expires_after(delay);
    co_await wake_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (*stopped) co_return;
  }
}

awaitable<void> Dialer::finish(const ClaimedJob& claimed, const DialJob* next) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  const bool has_next = next != nullptr;
  std::optional<DialJob> following;
  if (next) following = *next;
  auto done = co_await scheduler_.complete(claimed, std::move(following));
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&done))
    LogLine(LogLevel::error, "dial_job_not_completed").trusted_text("lead_id", claimed.job.lead_id).text("reason", error->message);
  else if (has_next)
    poke();
}

awaitable<void> Dialer::record(const std::string& lead_id, Attempt attempt, LeadStatus status) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  auto stored = co_await store_.add_attempt(lead_id, std::move(attempt), status);
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&stored))
    LogLine(LogLevel::error, "call_attempt_not_stored").trusted_text("lead_id", lead_id).text("reason", error->message);
}

awaitable<void> Dialer::work(ClaimedJob claimed, Lane* lane) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  const auto config = config_();
  auto job = claimed.job;
  // A pacing slot holds for this placement only: whatever moves the job
  // elsewhere (calling hours, a retry) goes through pacing again.
  const bool has_slot = job.slot_reserved;
  job.slot_reserved = false;
  const auto now = WallClock::now();
  auto got = co_await store_.get(job.lead_id);
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&got)) {
    if (error->failure == StoreFailure::not_found) co_return co_await finish(claimed, nullptr);
    // The store is away: try again shortly (nothing was placed).
    job.due = now + 5s;
    job.reason = "the lead store was unavailable";
    co_return co_await finish(claimed, &job);
  }
  const auto& lead = std::get<Lead>(got);
  if (job.check) co_return co_await settle(claimed, lead, lane);
  if (static_cast<int>(lead.attempts.size()) >= job.call) {
    // This call was placed (or tried) already: never a second time.
    LogLine(LogLevel::warn, "dial_skipped").trusted_text("lead_id", lead.id).trusted_text("reason", "the call is already on the lead");
    co_return co_await finish(claimed, nullptr);
  }
  if (claimed.reclaimed) {
    // Its worker stopped while this call may have been placing: not again
    // blindly. Recorded as ambiguous and settled like any ambiguous
    // placement (by a callback, else by asking the route's providers).
    Attempt attempt;
    attempt.created = now;
    attempt.error = "ambiguous: the dialer stopped while placing this call";
    co_await record(lead.id, std::move(attempt), LeadStatus::dialing);
    if (*stopped) co_return;
    lane->metrics->counter(ids_.calls_placed, {{"provider", "unknown"}, {"outcome", "ambiguous"}}).increment();
    auto check = check_job(job, "", job.due, *config);
    co_return co_await finish(claimed, &check);
  }

  const auto allowed = calling_time(*config, lead.phone, now);
  if (!allowed) {
    Attempt attempt;
    attempt.created = now;
    attempt.error = "not placed: the calling hours for this number never open";
    co_await record(lead.id, std::move(attempt), LeadStatus::failed);
    if (*stopped) co_return;
    co_return co_await finish(claimed, nullptr);
  }
  if (*allowed > now) {
    job.due = *allowed;
    job.reason = "held for calling hours";
    co_return co_await finish(claimed, &job);
  }

  // The route's providers in failover order: the first whose breaker lets the dial through.
  const Provider* provider = nullptr;
  ProviderName provider_name{};
  for (const auto name : providers_for_number(config->telephony, lead.phone)) {
    const auto* candidate = find_provider(name);
    if (candidate && breaker_allows(name)) {
      provider = candidate;
      provider_name = name;
      break;
    }
  }
  if (!provider) {
    job.due = now + config->dialer.breaker.open_for;
    job.reason = "every provider for this number is failing (breakers open)";
    co_return co_await finish(claimed, &job);
  }

  // The number's calls today, across leads: one is taken now, given back if
  // the placement fails before anything rang.
  std::optional<CivilDate> counted_day;
  if (const int cap = config->dialer.max_calls_per_number_per_day; cap > 0) {
    const auto& window = config->dialer.calling_hours.for_number(lead.phone);
    const auto local_day = callgate::floor_div(window.zone.to_local(unix_seconds(now)), 86'400);
    const auto day = civil_from_days(local_day);
    auto taken = co_await scheduler_.take_call(lead.phone, day, cap);
    if (*stopped) co_return;
    if (std::holds_alternative<StoreError>(taken)) {
      job.due = now + 5s;
      job.reason = "the dialer's journal was unavailable";
      co_return co_await finish(claimed, &job);
    }
    if (!std::get<bool>(taken)) {
      const auto tomorrow = window.zone.to_utc((local_day + 1) * 86'400);
      const auto opening = next_calling_time(window, tomorrow);
      job.due = wall_time(opening.value_or(tomorrow));
      job.reason = "daily cap: " + std::to_string(cap) + " calls to this number today";
      co_return co_await finish(claimed, &job);
    }
    counted_day = day;
  }

  // The account's pace: the call takes the account's next slot (shared by
  // every host on the scheduler); a later one moves the job there, marked so
  // it does not reserve again when it comes due.
  const unsigned pace = provider_name == ProviderName::twilio   ? config->telephony.twilio.calls_per_minute
                        : provider_name == ProviderName::exotel ? config->telephony.exotel.calls_per_minute
                                                                : 0;
  if (pace > 0 && !has_slot) {
    auto slot = co_await scheduler_.reserve_slot(std::string(to_string(provider_name)), now, pace);
    if (*stopped) co_return;
    const auto* slot_time = std::get_if<WallTime>(&slot);
    if (!slot_time || *slot_time > now) {
      if (counted_day) co_await scheduler_.give_back_call(lead.phone, *counted_day);
      if (*stopped) co_return;
      job.due = slot_time ? *slot_time : now + 1s;
      job.slot_reserved = slot_time != nullptr;
      job.reason = slot_time ? "paced: " + std::string(to_string(provider_name)) + " takes " + std::to_string(pace) +
                                   " calls a minute"
                             : "the pacing slot could not be reserved: " + std::get<StoreError>(slot).message;
      co_return co_await finish(claimed, &job);
    }
  }
  lane->metrics->histogram(ids_.dial_lag).observe(std::chrono::duration<double>(now - job.due).count());
  Attempt attempt;
  attempt.provider = std::string(to_string(provider_name));
  attempt.created = now;
  // Named first: GCC 12 mishandles braced temporaries inside co_await expressions.
  CallOrder order{lead.id, lead.phone};
  const auto outcome = co_await place_call(*provider, *config, *lane->client, std::move(order));
  if (*stopped) co_return;
  lane->metrics->counter(ids_.calls_placed, {{"provider", attempt.provider}, {"outcome", outcome_name(outcome)}}).increment();
  LogLine(std::holds_alternative<Placed>(outcome) ? LogLevel::info : LogLevel::warn, "call_placement")
      .trusted_text("lead_id", lead.id)
      .trusted_text("provider", attempt.provider)
      .number("call", job.call)
      .trusted_text("outcome", outcome_name(outcome));

  if (const auto* retryable = std::get_if<Retryable>(&outcome)) {
    if (counted_day) co_await scheduler_.give_back_call(lead.phone, *counted_day);  // nothing rang
    if (*stopped) co_return;
    breaker_failed(provider_name);
    job.failures += 1;
    const auto retry_after =
        retryable->retry_after ? std::optional<std::chrono::milliseconds>(*retryable->retry_after) : std::nullopt;
    if (const auto due = retry_due(*config, lead.phone, job.failures, retry_after, now, *lane)) {
      job.due = *due;
      job.reason = "retry " + std::to_string(job.failures) + ": " + retryable->reason;
      co_return co_await finish(claimed, &job);
    }
    attempt.error = "not placed after " + std::to_string(job.failures) + " tries: " + retryable->reason;
    co_await record(lead.id, std::move(attempt), LeadStatus::failed);
    if (*stopped) co_return;
    co_return co_await finish(claimed, nullptr);
  }
  breaker_succeeded(provider_name);  // it answered, whatever it said
  LeadStatus status = LeadStatus::dialing;
  if (const auto* placed = std::get_if<Placed>(&outcome)) {
    attempt.call_sid = placed->call_sid;
  } else if (const auto* ambiguous = std::get_if<Ambiguous>(&outcome)) {
    // The call may be ringing: its first callback will name the lead.
    attempt.error = "ambiguous: " + ambiguous->reason;
  } else {
    const auto& rejected = std::get<Rejected>(outcome);
    attempt.error = "rejected " + std::to_string(rejected.code) + ": " + rejected.message;
    status = LeadStatus::failed;
  }
  const bool ambiguous = std::holds_alternative<Ambiguous>(outcome);
  co_await record(lead.id, std::move(attempt), status);
  if (*stopped) co_return;
  if (ambiguous) {
    auto check = check_job(job, std::string(to_string(provider_name)), now, *config);
    co_return co_await finish(claimed, &check);
  }
  co_await finish(claimed, nullptr);
}

DialJob Dialer::check_job(const DialJob& placing, std::string provider, WallTime since,
                                  const Config& config) {
  auto check = dial_job(placing.lead_id, placing.call, WallClock::now() + config.dialer.ambiguous.grace,
                                "checking whether call " + std::to_string(placing.call) + " rang (ambiguous placement)");
  check.failures = placing.failures;  // a call found missing is retried within the same tries
  check.check = AmbiguousCheck{std::move(provider), since, 0, 0};
  return check;
}

awaitable<void> Dialer::settle(ClaimedJob claimed, Lead lead, Lane* lane) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  const auto config = config_();
  auto job = claimed.job;
  auto check = *job.check;
  const auto now = WallClock::now();
  const auto call = std::to_string(job.call);
  const auto index = static_cast<std::size_t>(job.call - 1);
  if (lead.attempts.size() > index + 1 || (lead.attempts.size() > index && !lead.attempts[index].call_sid.empty())) {
    // A callback naming the lead filled the call in meanwhile (or a later call exists).
    LogLine(LogLevel::info, "ambiguous_call_settled").trusted_text("lead_id", lead.id).number("call", job.call)
        .trusted_text("by", "callback");
    lane->metrics->counter(ids_.ambiguous_settled, {{"by", "callback"}}).increment();
    co_return co_await finish(claimed, nullptr);
  }
  // Whom to ask: the provider that took the request, else every one of the route.
  std::vector<ProviderName> asked;
  for (const auto name : providers_for_number(config->telephony, lead.phone))
    if (find_provider(name) && (check.provider.empty() || check.provider == to_string(name))) asked.push_back(name);
  CallLookup lookup;
  lookup.to = lead.phone;
  lookup.since = check.since;
  for (const auto& attempt : lead.attempts)
    if (!attempt.call_sid.empty()) lookup.known_call_sids.push_back(attempt.call_sid);
  bool answered = !asked.empty();
  std::string failure = asked.empty() ? "no provider of the route is built" : "";
  auto settles = std::chrono::seconds(0);
  for (const auto name : asked) {
    const auto* provider = find_provider(name);
    auto question = lookup;  // named first: GCC 12 and temporaries in co_await
    const auto outcome = co_await find_calls(*provider, *config, *lane->client, std::move(question));
    if (*stopped) co_return;
    settles = std::max(settles, provider->lookup_settles_after(*config));
    if (const auto* found = std::get_if<FoundCall>(&outcome)) {
      lane->metrics->counter(ids_.ambiguous_settled, {{"by", "found"}}).increment();
      co_return co_await attach_found_call(claimed, lead.id, name, *found);
    }
    if (const auto* failed = std::get_if<LookupFailed>(&outcome)) {
      answered = false;
      failure = std::string(to_string(name)) + ": " + failed->reason;
    }
  }
  check.lookups += 1;
  check.failed_lookups = answered ? 0 : check.failed_lookups + 1;
  const auto decision = decide_after_lookup(
      config->dialer.ambiguous, answered, check.lookups, check.failed_lookups,
      std::chrono::duration_cast<std::chrono::milliseconds>(now - check.since),
      std::chrono::duration_cast<std::chrono::milliseconds>(settles));
  switch (decision.next) {
    case CheckDecision::Next::dial_again: {
      LogLine(LogLevel::warn, "ambiguous_call_settled").trusted_text("lead_id", lead.id).number("call", job.call)
          .trusted_text("by", "lookup: the provider has no such call; calling again");
      lane->metrics->counter(ids_.ambiguous_settled, {{"by", "missing"}}).increment();
      // A placement that never happened counts as a failed try of the
      // call: tried again with the retry policy's backoff, within its tries.
      const int failures = job.failures + 1;
      const auto due = retry_due(*config, lead.phone, failures, std::nullopt, now, *lane);
      if (!due) {
        Attempt attempt;
        attempt.created = now;
        attempt.error = "not placed after " + std::to_string(failures) + " tries: the provider never took the call";
        co_await record(lead.id, std::move(attempt), LeadStatus::failed);
        if (*stopped) co_return;
        co_return co_await finish(claimed, nullptr);
      }
      auto next = dial_job(lead.id, job.call + 1, *due,
                                   "call " + call + " never rang (the provider has no such call): calling again");
      next.failures = failures;
      co_return co_await finish(claimed, &next);
    }
    case CheckDecision::Next::give_up: {
      lane->metrics->counter(ids_.ambiguous_settled, {{"by", "gave_up"}}).increment();
      Attempt attempt;
      attempt.created = now;
      attempt.error = "not called again: whether call " + call + " rang could not be settled after " +
                      std::to_string(check.lookups) + " lookups (last: " + failure + ")";
      co_await record(lead.id, std::move(attempt), LeadStatus::failed);
      if (*stopped) co_return;
      co_return co_await finish(claimed, nullptr);
    }
    case CheckDecision::Next::look_again: break;
  }
  job.check = check;
  job.due = now + decision.after;
  job.reason = "checking whether call " + call + " rang: " + (answered ? "not listed yet" : "lookup failed: " + failure);
  co_await finish(claimed, &job);
}

awaitable<void> Dialer::attach_found_call(const ClaimedJob& claimed, std::string lead_id, ProviderName provider,
                                          FoundCall found) {
  const auto stopped = stopped_;  // this Dialer may be gone when a co_await resumes
  // The provider's answer, applied as a callback naming the lead would be:
  // it gives the ambiguous attempt its call sid and status.
  CallEvent event;
  event.provider = std::string(to_string(provider));
  event.call_sid = found.call_sid;
  event.lead_id = lead_id;
  event.status = found.status.value_or(CallStatus::queued);
  event.raw_status = found.raw_status;
  event.idempotency_token = "lookup:" + found.call_sid + ":" + found.raw_status;
  const auto received = WallClock::now();
  auto applied = co_await store_.apply_event(event, received);
  if (*stopped) co_return;
  if (const auto* error = std::get_if<StoreError>(&applied)) {
    // Not attached: look again soon (the store is away); never dial.
    LogLine(LogLevel::error, "ambiguous_call_not_attached").trusted_text("lead_id", lead_id).text("reason", error->message);
    auto again = claimed.job;
    again.due = WallClock::now() + 5s;
    co_return co_await finish(claimed, &again);
  }
  LogLine(LogLevel::info, "ambiguous_call_settled").trusted_text("lead_id", lead_id).number("call", claimed.job.call)
      .trusted_text("by", "lookup: the provider has the call").trusted_text("provider", event.provider);
  co_await finish(claimed, nullptr);
  if (*stopped) co_return;
  // An ended call's redial is decided as a callback's would be.
  if (std::get<ApplyResult>(applied).outcome == EventOutcome::applied && ends_a_call(event.status))
    co_await call_ended(lead_id, found.call_sid);
}

}  // namespace callgate::dialer
