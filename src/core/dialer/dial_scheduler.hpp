// The dialer's jobs: "dial lead L, call number n, not before time T". At
// most one job per lead; a job is claimed with a lease before it is worked
// on, and completed (or completed and replaced by the next one, a retry or
// a redial) in one step. A claim whose lease ran out (its worker died) goes
// back to the due jobs: so the worker checks the lead's own attempts before
// it dials, and a job can never make a second call for the same attempt.
//
// Backends behind this interface, held to one conformance suite
// (tests/support/dial_scheduler_conformance.hpp): the embedded one
// (embedded_dial_scheduler.hpp, persisted in its own journal file) and the
// Redis one shared by several hosts (redis_dial_scheduler.hpp).
#pragma once

#include "core/civil_time.hpp"
#include "core/store/lead_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace callgate::dialer {

// A job that checks, instead of dials: did call `call` of the lead, whose
// placement was ambiguous, ring? (dial_policy.hpp's AmbiguousPolicy)
struct AmbiguousCheck {
  std::string provider;    // whom to ask; empty: every provider of the number's route (the placer is unknown)
  WallTime since{};        // when the placement began
  int lookups = 0;         // made so far
  int failed_lookups = 0;  // of those, the latest in a row that got no usable answer
  friend bool operator==(const AmbiguousCheck&, const AmbiguousCheck&) = default;
};

struct DialJob {
  std::string lead_id;
  int call = 1;      // which call of the lead this is (1: the first)
  int failures = 0;  // retryable placement failures of this call so far
  WallTime due{};
  std::string reason;                   // "enquiry", "retry: provider answered 503", "redial: busy"
  bool slot_reserved = false;           // due is a pacing slot reserved for it: place it then without another
  std::optional<AmbiguousCheck> check;  // set: a check of call `call`, not a placement
  friend bool operator==(const DialJob&, const DialJob&) = default;
};

// A placement job (no failures yet, no slot, no check).
inline DialJob dial_job(std::string lead_id, int call, WallTime due, std::string reason) {
  DialJob job;
  job.lead_id = std::move(lead_id);
  job.call = call;
  job.due = due;
  job.reason = std::move(reason);
  return job;
}

struct ClaimedJob {
  DialJob job;
  std::uint64_t claim = 0;  // names this claim; a completion with a stale one is refused
  WallTime lease_until{};
  bool reclaimed = false;  // an earlier claim's lease ran out: its worker may have dialed
};

struct SchedulerCounts {
  std::uint64_t due = 0;        // due now, not claimed
  std::uint64_t waiting = 0;    // due later
  std::uint64_t in_flight = 0;  // claimed
};

class DialScheduler {
 public:
  virtual ~DialScheduler() = default;

  // Puts the lead's job in place (replacing one that waits). Refused with
  // conflict while the lead's job is claimed: its worker decides what is next.
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<bool>> schedule(DialJob job) = 0;
  // A new lead's job, claimed at once by the caller (until now + lease), so
  // the call is placed without a round through claim_due; nothing (and
  // nothing changes) when the lead has a job already. If the caller dies,
  // the lease runs out and the job is reclaimed like any other.
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<std::optional<ClaimedJob>>> schedule_claimed(
      DialJob job, WallTime now, std::chrono::milliseconds lease) = 0;
  // Up to limit due jobs (due <= now, earliest first), each claimed until
  // now + lease; jobs whose lease has run out count as due again.
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<std::vector<ClaimedJob>>> claim_due(
      WallTime now, std::size_t limit, std::chrono::milliseconds lease) = 0;
  // The claimed job is finished; with next, the lead's next job takes its
  // place in the same step. False (and nothing changes) when the claim is
  // no longer the lead's (its lease ran out and another worker took it).
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<bool>> complete(ClaimedJob claimed,
                                                                                  std::optional<DialJob> next) = 0;
  // The per-number daily cap: takes one of the day's calls to number (its
  // calling-hours date) if fewer than cap were taken; false when the cap is
  // reached. Check and count are one step. give_back_call returns one (the
  // placement failed before anything rang).
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<bool>> take_call(std::string number, CivilDate day,
                                                                                   int cap) = 0;
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<bool>> give_back_call(std::string number,
                                                                                        CivilDate day) = 0;
  // Pacing: reserves the provider account's first free call slot at or
  // after now (slots are 60 s / calls_per_minute apart, shared by every
  // dialer on this scheduler) and returns its time: now when the call may go
  // at once. A burst is thus spread over the slots in one pass, each job
  // moved to its own slot, rather than retried again and again.
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<WallTime>> reserve_slot(
      std::string account, WallTime now, unsigned calls_per_minute) = 0;
  // The lead's job, waiting or claimed (for GET /leads/{id}).
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<std::optional<DialJob>>> job_for(
      std::string lead_id) = 0;
  // When the earliest job is due (a claimed one: when its lease ends), for
  // a worker that sleeps until then.
  virtual std::optional<WallTime> next_wake() const = 0;
  // The longest a worker should sleep between looks: jobs written by other
  // hosts (or left by a host that died) show up no later than this.
  virtual std::chrono::milliseconds longest_sleep() const = 0;
  // (The Redis backend answers both as of its latest claim_due.)
  virtual SchedulerCounts counts(WallTime now) const = 0;
  // Why the scheduler cannot take writes, if it cannot (for /readyz).
  virtual std::optional<std::string> problem() const { return std::nullopt; }
};

// A scheduler whose jobs live beside the leads (DynamoDB: one table) can
// store a new lead and its first job in one step, so an enquiry is one
// write and no lead is ever stored without its call in the dialer's hands.
class LeadsWithFirstJobs {
 public:
  virtual ~LeadsWithFirstJobs() = default;

  struct Stored {
    store::CreateResult lead;           // as LeadStore::create answers
    std::optional<ClaimedJob> claimed;  // the job, claimed by the caller, when a lease was asked for
  };
  // Creates request's lead as LeadStore::create does, and job with it when
  // the lead is created: claimed until now + lease when lease is set,
  // waiting otherwise. When an existing lead is returned instead, nothing
  // is written (its own job, if any, stays as it is).
  [[nodiscard]] virtual boost::asio::awaitable<store::StoreResult<Stored>> create_with_first_job(
      store::CreateRequest request, DialJob job, WallTime now, std::optional<std::chrono::milliseconds> lease) = 0;
};

}  // namespace callgate::dialer
