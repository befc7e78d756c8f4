// The dialer's decisions, one function for each step of working a job.
// Pure: the job, the lead, the clock's reading, the provider's answer and a
// random draw come in; what to do comes out (an attempt to record on the
// lead, the claim to complete with the lead's next job or with none, or
// the next step to take). dialer.cpp carries them out and does nothing else,
// so every rule of when a customer is called is a table test
// (tests/unit/dialer/decisions_test.cpp).
//
// Never twice for one attempt: the lead's own attempts are looked at before
// a call is placed, and a placement that may have rung is settled (a check
// job) before anything rings again.
#pragma once

#include "core/civil_time.hpp"
#include "core/config.hpp"
#include "core/dialer/dial_scheduler.hpp"
#include "core/lead/lead.hpp"
#include "providers/place_call_outcome.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace callgate::dialer {

// Why a step ended as it did: the logs, the metrics and the tests read it.
enum class Why {
  lead_gone,               // the lead no longer exists: the job goes
  store_unavailable,       // the lead could not be read: again shortly, nothing was placed
  already_placed,          // the lead has this call already: never a second time
  worker_stopped,          // a reclaimed job: its worker may have placed it; recorded ambiguous, then settled
  never_callable,          // the number's calling hours never open
  held_for_calling_hours,  // callable later: the job moves there
  breakers_open,           // every provider of the number's route is failing
  cap_unavailable,         // the day's calls could not be counted: again shortly
  daily_cap,               // the number had its calls today: tomorrow's opening
  paced,                   // the account's next slot is later: the job moves there
  pacing_unavailable,      // no slot could be reserved: again shortly
  retry,                   // a retryable failure: tried again after a backoff
  out_of_tries,            // retryable failures used every try
  placed,                  // the provider took the call
  ambiguous,               // the call may be ringing: settled by a check job
  rejected,                // the provider refused the call for good
  settled_by_callback,     // a check found the ambiguous call filled in by a callback
  found_by_lookup,         // the provider listed the call
  attach_failed,           // the listed call could not be stored: looked at again shortly
  missing_called_again,    // the provider proved there was no call: the call is tried again
  missing_out_of_tries,    // ... but its tries are used up
  unsettled_gave_up,       // the provider never gave a usable answer
  look_again,              // no proof either way yet
};
[[nodiscard]] std::string_view to_string(Why why);

struct AttemptToRecord {
  Attempt attempt;
  LeadStatus status;  // the lead's status with it
};

// How a job's work ends: the attempt recorded on the lead (first), then the
// claim completed, with the lead's next job in its place or with none.
struct Finish {
  Why why;
  std::optional<AttemptToRecord> record;
  std::optional<DialJob> next;
  // A call counted against the number's daily cap is given back: nothing rang.
  bool give_back_call = false;
};

// The first moment at or after `at` the number may be called (to the
// second); nothing when its calling hours never open.
[[nodiscard]] std::optional<WallTime> calling_time(const DialerConfig& config, const std::string& phone, WallTime at);

// When a call that failed `failures` times may be tried again: the retry
// policy's backoff (unit_random in [0, 1) draws its jitter), then the calling
// hours; nothing when its tries are used up.
[[nodiscard]] std::optional<WallTime> retry_due(const DialerConfig& config, const std::string& phone, int failures,
                                                std::optional<std::chrono::milliseconds> retry_after, WallTime now,
                                                double unit_random);

// The job that settles an ambiguous placement of placing's call, first due
// after the grace period. provider: who took the request ("" when unknown).
[[nodiscard]] DialJob check_job(const DialJob& placing, std::string provider, WallTime since, WallTime now,
                                const DialerConfig& config);

// ---- A new lead, and a call's end ----

// A new lead's first call: claimed by the enquiry's host and placed at once
// when the number is callable now (or never: the worker records why it
// stops), else scheduled for the calling hours' opening.
struct FirstCall {
  DialJob job;
  bool claim_now = false;
};
[[nodiscard]] FirstCall decide_first_call(const Lead& lead, WallTime now, const DialerConfig& config);

// A status callback ended call_sid: a redial, or the lead is done, or
// nothing (a late callback of an earlier call, a call not ended, a number
// never callable again).
struct CallEndedDecision {
  enum class Next { nothing, lead_done, redial };
  Next next = Next::nothing;
  std::optional<DialJob> redial;
  std::string reason;
};
[[nodiscard]] CallEndedDecision decide_after_call_ended(const Lead& lead, const std::string& call_sid, WallTime now,
                                                        const DialerConfig& config);

// Whether the lead's calls are over: its latest call ended and the redial
// policy calls no more (what call_ended decides, asked again at now).
[[nodiscard]] bool calls_are_over(const Lead& lead, WallTime now, const DialerConfig& config);

// ---- Working a claimed job, step by step ----

struct Settle {};  // a check job: settle the ambiguous placement (below)
struct Place {
  DialJob job;            // the claimed job with its pacing slot taken off: a move elsewhere reserves again
  bool has_slot = false;  // it came due in a pacing slot reserved for it
};
using ClaimedJobDecision = std::variant<Finish, Settle, Place>;
// lead: the store's answer for the job's lead.
[[nodiscard]] ClaimedJobDecision decide_claimed_job(const ClaimedJob& claimed, const store::StoreResult<Lead>& lead,
                                                    WallTime now, const DialerConfig& config);

// No provider of the route lets a call through (breakers open, none built).
[[nodiscard]] Finish decide_no_provider(const DialJob& job, WallTime now, const DialerConfig& config);

// The local date whose calls count against the number's daily cap; nothing
// when there is no cap.
[[nodiscard]] std::optional<CivilDate> daily_cap_day(const DialerConfig& config, const std::string& phone,
                                                     WallTime now);
// After asking for one of that day's calls: taken (go on), refused, or not
// known (the scheduler was unavailable).
[[nodiscard]] std::optional<Finish> decide_after_daily_cap(const DialJob& job, const std::string& phone, WallTime now,
                                                           std::optional<bool> taken, const DialerConfig& config);

// After asking the account's pacing for a slot (calls_per_minute > 0 and no
// slot reserved yet): the slot's time, or why none could be reserved.
// Nothing: the slot is now, go on. counted_today: a daily-cap call was taken.
[[nodiscard]] std::optional<Finish> decide_after_pacing(const DialJob& job, std::string_view provider,
                                                        unsigned calls_per_minute, WallTime now,
                                                        const std::variant<WallTime, std::string>& slot,
                                                        bool counted_today);

// After the provider answered a placement (or did not).
struct PlacementDecision {
  Finish finish;
  bool provider_failed = false;  // a retryable failure, for the provider's circuit breaker; else it answered
};
[[nodiscard]] PlacementDecision decide_after_placement(const DialJob& job, const Lead& lead, std::string_view provider,
                                                       const providers::PlaceCallOutcome& outcome, WallTime now,
                                                       bool counted_today, const DialerConfig& config,
                                                       double unit_random);

// ---- Settling an ambiguous placement ----

// A callback naming the lead filled the call in meanwhile, or a later call exists.
[[nodiscard]] bool settled_by_callback(const DialJob& check, const Lead& lead);
// Whom to ask: the provider that took the request, else each of the route's.
[[nodiscard]] std::vector<ProviderName> providers_to_ask(const AmbiguousCheck& check,
                                                         const std::vector<ProviderName>& route);
// The question: calls to the lead's number since the placement, other than those it knows.
[[nodiscard]] providers::CallLookup lookup_for(const Lead& lead, const AmbiguousCheck& check);
// The call a provider listed, applied as a callback naming the lead would be.
[[nodiscard]] CallEvent event_for_found_call(const std::string& lead_id, std::string_view provider,
                                             const providers::FoundCall& found);

// What the providers asked said, when none had the call.
struct LookupsAnswer {
  bool answered = false;                  // every provider asked answered (a list without the call)
  std::string failure;                    // else the latest failure, "<provider>: <reason>"
  std::chrono::seconds settles_after{0};  // the longest time a list needs to prove anything
};
[[nodiscard]] Finish decide_after_lookups(const DialJob& check_job, const Lead& lead, const LookupsAnswer& answer,
                                          WallTime now, const DialerConfig& config, double unit_random);

}  // namespace callgate::dialer
