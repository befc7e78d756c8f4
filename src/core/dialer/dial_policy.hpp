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
std::optional<Milliseconds> retry_delay(const RetryPolicy& policy, int failures, std::optional<Milliseconds> retry_after,
                                        double unit_random);

// Calls that went through but did not reach the customer.
struct RedialPolicy {
  std::vector<Milliseconds> delays{Milliseconds(600'000), Milliseconds(3'600'000)};  // after call 1, 2, ... (the last repeats)
  int max_calls = 3;            // calls per lead, the first included
  bool redial_machines = true;  // a machine answering (with machine detection on) counts as no answer
  friend bool operator==(const RedialPolicy&, const RedialPolicy&) = default;
};

struct RedialDecision {
  std::optional<Milliseconds> redial_after;  // none: the lead is done
  std::string reason;                        // why, for the lead's history and the logs
};

// After call number calls_made (1 for the first) ended with final_status.
RedialDecision decide_redial(const RedialPolicy& policy, CallStatus final_status, std::string_view answered_by,
                             int calls_made);

// Whether Twilio's AnsweredBy (or an equivalent) says a machine or fax took the call.
bool answered_by_machine(std::string_view answered_by);

}  // namespace callgate::dialer
