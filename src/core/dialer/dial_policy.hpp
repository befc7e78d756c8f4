// What the dialer does after each outcome: retry a call that could not be
// placed, redial a customer who did not answer, stop. Pure: time and
// randomness are parameters, so every rule is a table test.
#pragma once

#include "core/lead/lead.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace callgate::dialer {

using Milliseconds = std::chrono::milliseconds;

// Placing a call failed in a way worth trying again (the Providers issue's
// "retryable": 429, 5xx, no connection before the request went out).
struct RetryPolicy {
  Milliseconds base{2'000};
  Milliseconds cap{120'000};
  int max_tries = 6;  // placements of one attempt, the first included
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

// The wait before the next try after `failures` retryable failures in a
// row (1 for the first): exponential backoff with full jitter (a uniform
// pick below min(cap, base * 2^(failures-1)), unit_random in [0, 1)), never
// sooner than the provider's Retry-After. Nothing when the tries are used up.
[[nodiscard]] std::optional<Milliseconds> retry_delay(const RetryPolicy& policy, int failures,
                                                      std::optional<Milliseconds> retry_after, double unit_random);

// Calls that went through but did not reach the customer.
struct RedialPolicy {
  std::vector<Milliseconds> delays{Milliseconds(600'000),
                                   Milliseconds(3'600'000)};  // after call 1, 2, ... (the last repeats)
  int max_calls = 3;                                          // calls per lead, the first included
  bool redial_machines = true;  // a machine answering (with machine detection on) counts as no answer
  friend bool operator==(const RedialPolicy&, const RedialPolicy&) = default;
};

struct RedialDecision {
  std::optional<Milliseconds> redial_after;  // none: the lead is done
  std::string reason;                        // why, for the lead's history and the logs
};

// After call number calls_made (1 for the first) ended with final_status.
[[nodiscard]] RedialDecision decide_redial(const RedialPolicy& policy, CallStatus final_status,
                                           std::string_view answered_by, int calls_made);

// A placement that may or may not have rung (Ambiguous, or a worker that
// died mid-placement) is settled before anything rings again: a callback
// naming the lead may settle it; if none came within grace, the provider's
// call list is asked, again and again, until it has the call or its list is
// complete enough to prove there is none.
struct AmbiguousPolicy {
  Milliseconds grace{30'000};         // the first look at the provider, after the placement
  Milliseconds recheck_cap{600'000};  // looks back off from grace up to this
  int max_failed_lookups = 20;        // lookups in a row with no usable answer before giving up
  friend bool operator==(const AmbiguousPolicy&, const AmbiguousPolicy&) = default;
};

struct CheckDecision {
  enum class Next { look_again, dial_again, give_up };
  Next next = Next::look_again;
  Milliseconds after{0};  // look_again: when
};

// After a lookup that found no call: provider_answered says the provider
// answered (a list without the call), else the lookup failed. lookups: how
// many were made for this placement (this one included), failed_lookups:
// how many of the latest in a row failed (this one included). A list
// without the call proves nothing before settles_after has passed since the
// placement (Exotel lists only ended calls).
[[nodiscard]] CheckDecision decide_after_lookup(const AmbiguousPolicy& policy, bool provider_answered, int lookups,
                                                int failed_lookups, Milliseconds since_placement,
                                                Milliseconds settles_after);

// Whether Twilio's AnsweredBy (or an equivalent) says a machine or fax took the call.
[[nodiscard]] bool answered_by_machine(std::string_view answered_by);

}  // namespace callgate::dialer
