#include "dialer/decisions.hpp"

#include "core/dialer/calling_hours.hpp"
#include "core/dialer/dial_policy.hpp"

#include <algorithm>

namespace callgate::dialer {

using namespace std::chrono_literals;

namespace {

// When a job that could not be worked for a passing reason (a store away)
// is tried again: soon, since nothing was placed.
constexpr auto kShortlyAgain = 5s;

UnixSeconds unix_seconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}
WallTime wall_time(UnixSeconds seconds) { return WallTime(std::chrono::seconds(seconds)); }

// Days since 1970-01-01 of the window's local date at now: the day a call counts against.
std::int64_t local_day_number(const CallingWindow& window, WallTime now) {
  return floor_div(window.zone.to_local(unix_seconds(now)), 86'400);
}

Attempt attempt_at(WallTime now, std::string error) {
  Attempt attempt;
  attempt.created = now;
  attempt.error = std::move(error);
  return attempt;
}

DialJob moved(DialJob job, WallTime due, std::string reason) {
  job.due = due;
  job.reason = std::move(reason);
  return job;
}

}  // namespace

std::string_view to_string(Why why) {
  switch (why) {
    case Why::lead_gone:
      return "lead_gone";
    case Why::store_unavailable:
      return "store_unavailable";
    case Why::already_placed:
      return "already_placed";
    case Why::worker_stopped:
      return "worker_stopped";
    case Why::never_callable:
      return "never_callable";
    case Why::held_for_calling_hours:
      return "held_for_calling_hours";
    case Why::breakers_open:
      return "breakers_open";
    case Why::cap_unavailable:
      return "cap_unavailable";
    case Why::daily_cap:
      return "daily_cap";
    case Why::paced:
      return "paced";
    case Why::pacing_unavailable:
      return "pacing_unavailable";
    case Why::retry:
      return "retry";
    case Why::out_of_tries:
      return "out_of_tries";
    case Why::placed:
      return "placed";
    case Why::ambiguous:
      return "ambiguous";
    case Why::rejected:
      return "rejected";
    case Why::settled_by_callback:
      return "settled_by_callback";
    case Why::found_by_lookup:
      return "found_by_lookup";
    case Why::attach_failed:
      return "attach_failed";
    case Why::missing_called_again:
      return "missing_called_again";
    case Why::missing_out_of_tries:
      return "missing_out_of_tries";
    case Why::unsettled_gave_up:
      return "unsettled_gave_up";
    case Why::look_again:
      return "look_again";
  }
  return "unknown";
}

std::optional<WallTime> calling_time(const DialerConfig& config, const std::string& phone, WallTime at) {
  const auto& window = config.calling_hours.for_number(phone);
  const auto allowed = next_calling_time(window, unix_seconds(at));
  if (!allowed) return std::nullopt;
  return *allowed <= unix_seconds(at) ? at : wall_time(*allowed);
}

std::optional<WallTime> retry_due(const DialerConfig& config, const std::string& phone, int failures,
                                  std::optional<std::chrono::milliseconds> retry_after, WallTime now,
                                  double unit_random) {
  const auto delay = retry_delay(config.retry, failures, retry_after, unit_random);
  if (!delay) return std::nullopt;
  return calling_time(config, phone, now + *delay);
}

DialJob check_job(const DialJob& placing, std::string provider, WallTime since, WallTime now,
                  const DialerConfig& config) {
  auto check = dial_job(placing.lead_id, placing.call, now + config.ambiguous.grace,
                        "checking whether call " + std::to_string(placing.call) + " rang (ambiguous placement)");
  check.failures = placing.failures;  // a call found missing is retried within the same tries
  check.check = AmbiguousCheck{std::move(provider), since, 0, 0};
  return check;
}

FirstCall decide_first_call(const Lead& lead, WallTime now, const DialerConfig& config) {
  const auto due = calling_time(config, lead.phone, now);
  if (!due || *due <= now) return {dial_job(lead.id, 1, now, "enquiry"), true};
  return {dial_job(lead.id, 1, *due, "enquiry (held for calling hours)"), false};
}

CallEndedDecision decide_after_call_ended(const Lead& lead, const std::string& call_sid, WallTime now,
                                          const DialerConfig& config) {
  if (lead.attempts.empty()) return {};
  const auto& last = lead.attempts.back();
  // Only the latest call's end decides; a late callback of an earlier one does not.
  if (last.call_sid != call_sid || !last.status || !is_terminal(*last.status)) return {};
  const int calls = static_cast<int>(lead.attempts.size());
  // A call answered while the voice agent was not there reached nobody:
  // it is redialled as an unanswered one would be.
  const bool agent_missed = std::any_of(
      lead.media_streams.begin(), lead.media_streams.end(),
      [&](const MediaStream& stream) { return stream.call_sid == call_sid && stream.outcome == "agent_unavailable"; });
  auto decision = agent_missed ? decide_redial(config.redial, CallStatus::no_answer, "", calls)
                               : decide_redial(config.redial, *last.status, last.answered_by, calls);
  if (agent_missed) decision.reason = "the voice agent was unavailable; " + decision.reason;
  if (!decision.redial_after) return {CallEndedDecision::Next::lead_done, std::nullopt, decision.reason};
  const auto due = calling_time(config, lead.phone, now + *decision.redial_after);
  if (!due) return {CallEndedDecision::Next::nothing, std::nullopt, "the calling hours for this number never open"};
  return {CallEndedDecision::Next::redial, dial_job(lead.id, calls + 1, *due, "redial: " + decision.reason),
          decision.reason};
}

bool calls_are_over(const Lead& lead, WallTime now, const DialerConfig& config) {
  if (lead.attempts.empty()) return false;
  return decide_after_call_ended(lead, lead.attempts.back().call_sid, now, config).next ==
         CallEndedDecision::Next::lead_done;
}

ClaimedJobDecision decide_claimed_job(const ClaimedJob& claimed, const store::StoreResult<Lead>& got, WallTime now,
                                      const DialerConfig& config) {
  auto job = claimed.job;
  // A pacing slot holds for this placement only: whatever moves the job
  // elsewhere (calling hours, a retry) goes through pacing again.
  const bool has_slot = job.slot_reserved;
  job.slot_reserved = false;
  if (const auto* error = std::get_if<store::StoreError>(&got)) {
    if (error->failure == store::StoreFailure::not_found) return Finish{Why::lead_gone, std::nullopt, std::nullopt};
    return Finish{Why::store_unavailable, std::nullopt,
                  moved(job, now + kShortlyAgain, "the lead store was unavailable")};
  }
  const auto& lead = std::get<Lead>(got);
  if (job.check) return Settle{};
  if (static_cast<int>(lead.attempts.size()) >= job.call)
    return Finish{Why::already_placed, std::nullopt, std::nullopt};
  if (claimed.reclaimed) {
    // Its worker stopped while this call may have been placing: not again
    // blindly. Recorded as ambiguous and settled like any ambiguous
    // placement (by a callback, else by asking the route's providers).
    return Finish{
        Why::worker_stopped,
        AttemptToRecord{attempt_at(now, "ambiguous: the dialer stopped while placing this call"), LeadStatus::dialing},
        check_job(job, "", job.due, now, config)};
  }
  const auto allowed = calling_time(config, lead.phone, now);
  if (!allowed)
    return Finish{Why::never_callable,
                  AttemptToRecord{attempt_at(now, "not placed: the calling hours for this number never open"),
                                  LeadStatus::failed},
                  std::nullopt};
  if (*allowed > now)
    return Finish{Why::held_for_calling_hours, std::nullopt, moved(job, *allowed, "held for calling hours")};
  return Place{std::move(job), has_slot};
}

Finish decide_no_provider(const DialJob& job, WallTime now, const DialerConfig& config) {
  return {Why::breakers_open, std::nullopt,
          moved(job, now + config.breaker.open_for, "every provider for this number is failing (breakers open)")};
}

std::optional<CivilDate> daily_cap_day(const DialerConfig& config, const std::string& phone, WallTime now) {
  if (config.max_calls_per_number_per_day <= 0) return std::nullopt;
  const auto& window = config.calling_hours.for_number(phone);
  return civil_from_days(local_day_number(window, now));
}

std::optional<Finish> decide_after_daily_cap(const DialJob& job, const std::string& phone, WallTime now,
                                             std::optional<bool> taken, const DialerConfig& config) {
  if (!taken)
    return Finish{Why::cap_unavailable, std::nullopt,
                  moved(job, now + kShortlyAgain, "the dialer's journal was unavailable")};
  if (*taken) return std::nullopt;
  const auto& window = config.calling_hours.for_number(phone);
  const auto tomorrow = window.zone.to_utc((local_day_number(window, now) + 1) * 86'400);
  const auto opening = next_calling_time(window, tomorrow);
  return Finish{
      Why::daily_cap, std::nullopt,
      moved(job, wall_time(opening.value_or(tomorrow)),
            "daily cap: " + std::to_string(config.max_calls_per_number_per_day) + " calls to this number today")};
}

std::optional<Finish> decide_after_pacing(const DialJob& job, std::string_view provider, unsigned calls_per_minute,
                                          WallTime now, const std::variant<WallTime, std::string>& slot,
                                          bool counted_today) {
  if (const auto* slot_time = std::get_if<WallTime>(&slot)) {
    if (*slot_time <= now) return std::nullopt;
    auto later =
        moved(job, *slot_time,
              "paced: " + std::string(provider) + " takes " + std::to_string(calls_per_minute) + " calls a minute");
    later.slot_reserved = true;  // due in its own slot: placed then without reserving another
    return Finish{Why::paced, std::nullopt, std::move(later), counted_today};
  }
  return Finish{Why::pacing_unavailable, std::nullopt,
                moved(job, now + 1s, "the pacing slot could not be reserved: " + std::get<std::string>(slot)),
                counted_today};
}

PlacementDecision decide_after_placement(const DialJob& placing, const Lead& lead, std::string_view provider,
                                         const providers::PlaceCallOutcome& outcome, WallTime now, bool counted_today,
                                         const DialerConfig& config, double unit_random) {
  Attempt attempt;
  attempt.provider = std::string(provider);
  attempt.created = now;
  if (const auto* retryable = std::get_if<providers::Retryable>(&outcome)) {
    auto job = placing;
    job.failures += 1;
    const auto retry_after =
        retryable->retry_after ? std::optional<std::chrono::milliseconds>(*retryable->retry_after) : std::nullopt;
    if (const auto due = retry_due(config, lead.phone, job.failures, retry_after, now, unit_random)) {
      auto again = moved(job, *due, "retry " + std::to_string(job.failures) + ": " + retryable->reason);
      return {Finish{Why::retry, std::nullopt, std::move(again), counted_today}, true};
    }
    attempt.error = "not placed after " + std::to_string(job.failures) + " tries: " + retryable->reason;
    return {
        Finish{Why::out_of_tries, AttemptToRecord{std::move(attempt), LeadStatus::failed}, std::nullopt, counted_today},
        true};
  }
  if (const auto* placed = std::get_if<providers::Placed>(&outcome)) {
    attempt.call_sid = placed->call_sid;
    return {Finish{Why::placed, AttemptToRecord{std::move(attempt), LeadStatus::dialing}, std::nullopt}, false};
  }
  if (const auto* ambiguous = std::get_if<providers::Ambiguous>(&outcome)) {
    // The call may be ringing: its first callback will name the lead, else the check settles it.
    attempt.error = "ambiguous: " + ambiguous->reason;
    return {Finish{Why::ambiguous, AttemptToRecord{std::move(attempt), LeadStatus::dialing},
                   check_job(placing, std::string(provider), now, now, config)},
            false};
  }
  const auto& rejected = std::get<providers::Rejected>(outcome);
  attempt.error = "rejected " + std::to_string(rejected.code) + ": " + rejected.message;
  return {Finish{Why::rejected, AttemptToRecord{std::move(attempt), LeadStatus::failed}, std::nullopt}, false};
}

bool settled_by_callback(const DialJob& check, const Lead& lead) {
  const auto index = static_cast<std::size_t>(check.call - 1);
  return lead.attempts.size() > index + 1 || (lead.attempts.size() > index && !lead.attempts[index].call_sid.empty());
}

std::vector<ProviderName> providers_to_ask(const AmbiguousCheck& check, const std::vector<ProviderName>& route) {
  std::vector<ProviderName> asked;
  for (const auto& name : route)
    if (check.provider.empty() || check.provider == to_string(name)) asked.push_back(name);
  return asked;
}

providers::CallLookup lookup_for(const Lead& lead, const AmbiguousCheck& check) {
  providers::CallLookup lookup;
  lookup.to = lead.phone;
  lookup.since = check.since;
  for (const auto& attempt : lead.attempts)
    if (!attempt.call_sid.empty()) lookup.known_call_sids.push_back(attempt.call_sid);
  return lookup;
}

CallEvent event_for_found_call(const std::string& lead_id, std::string_view provider,
                               const providers::FoundCall& found) {
  CallEvent event;
  event.provider = std::string(provider);
  event.call_sid = found.call_sid;
  event.lead_id = lead_id;
  event.status = found.status.value_or(CallStatus::queued);
  event.raw_status = found.raw_status;
  // The same listing seen twice is one event, not two.
  event.idempotency_token = "lookup:" + found.call_sid + ":" + found.raw_status;
  return event;
}

Finish decide_after_lookups(const DialJob& job, const Lead& lead, const LookupsAnswer& answer, WallTime now,
                            const DialerConfig& config, double unit_random) {
  auto check = *job.check;
  const auto call = std::to_string(job.call);
  check.lookups += 1;
  check.failed_lookups = answer.answered ? 0 : check.failed_lookups + 1;
  const auto decision =
      decide_after_lookup(config.ambiguous, answer.answered, check.lookups, check.failed_lookups,
                          std::chrono::duration_cast<std::chrono::milliseconds>(now - check.since),
                          std::chrono::duration_cast<std::chrono::milliseconds>(answer.settles_after));
  switch (decision.next) {
    case CheckDecision::Next::dial_again: {
      // A placement that never happened counts as a failed try of the
      // call: tried again with the retry policy's backoff, within its tries.
      const int failures = job.failures + 1;
      const auto due = retry_due(config, lead.phone, failures, std::nullopt, now, unit_random);
      if (!due)
        return {Why::missing_out_of_tries,
                AttemptToRecord{attempt_at(now, "not placed after " + std::to_string(failures) +
                                                    " tries: the provider never took the call"),
                                LeadStatus::failed},
                std::nullopt};
      auto next = dial_job(lead.id, job.call + 1, *due,
                           "call " + call + " never rang (the provider has no such call): calling again");
      next.failures = failures;
      return {Why::missing_called_again, std::nullopt, std::move(next)};
    }
    case CheckDecision::Next::give_up:
      return {Why::unsettled_gave_up,
              AttemptToRecord{
                  attempt_at(now, "not called again: whether call " + call + " rang could not be settled after " +
                                      std::to_string(check.lookups) + " lookups (last: " + answer.failure + ")"),
                  LeadStatus::failed},
              std::nullopt};
    case CheckDecision::Next::look_again:
      break;
  }
  auto again = job;
  again.check = check;
  again.due = now + decision.after;
  again.reason = "checking whether call " + call +
                 " rang: " + (answer.answered ? "not listed yet" : "lookup failed: " + answer.failure);
  return {Why::look_again, std::nullopt, std::move(again)};
}

}  // namespace callgate::dialer
