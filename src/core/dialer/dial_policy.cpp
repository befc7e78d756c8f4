#include "core/dialer/dial_policy.hpp"

#include <algorithm>
#include <cmath>

namespace callgate::dialer {

std::optional<Milliseconds> retry_delay(const RetryPolicy& policy, int failures,
                                        std::optional<Milliseconds> retry_after, double unit_random) {
  if (failures < 1 || failures >= policy.max_tries) return std::nullopt;
  // base * 2^(failures-1), without overflowing for many failures.
  auto ceiling = policy.base;
  for (int doubling = 1; doubling < failures && ceiling < policy.cap; ++doubling) ceiling *= 2;
  ceiling = std::min(ceiling, policy.cap);
  const double unit = std::clamp(unit_random, 0.0, 1.0);
  auto delay = Milliseconds(static_cast<Milliseconds::rep>(std::floor(unit * static_cast<double>(ceiling.count()))));
  if (retry_after) delay = std::max(delay, *retry_after);
  return delay;
}

bool answered_by_machine(std::string_view answered_by) {
  return answered_by.starts_with("machine") || answered_by == "fax";
}

RedialDecision decide_redial(const RedialPolicy& policy, CallStatus final_status, std::string_view answered_by,
                             int calls_made) {
  switch (final_status) {
    case CallStatus::completed:
      if (!(policy.redial_machines && answered_by_machine(answered_by))) return {std::nullopt, "answered"};
      break;  // a machine: as if nobody answered
    case CallStatus::canceled:
      return {std::nullopt, "canceled"};
    case CallStatus::busy:
    case CallStatus::no_answer:
    case CallStatus::failed:
      break;
    default:
      return {std::nullopt, "not a final call status"};
  }
  const std::string why = final_status == CallStatus::completed ? "machine" : std::string(to_string(final_status));
  if (calls_made >= policy.max_calls || policy.delays.empty())
    return {std::nullopt, why + ", and " + std::to_string(policy.max_calls) + " calls were made"};
  const auto index = static_cast<std::size_t>(std::max(calls_made, 1) - 1);
  return {policy.delays[std::min(index, policy.delays.size() - 1)], why};
}

CheckDecision decide_after_lookup(const AmbiguousPolicy& policy, bool provider_answered, int lookups,
                                  int failed_lookups, Milliseconds since_placement, Milliseconds settles_after) {
  if (provider_answered && since_placement >= settles_after) return {CheckDecision::Next::dial_again, Milliseconds(0)};
  if (!provider_answered && failed_lookups >= policy.max_failed_lookups)
    return {CheckDecision::Next::give_up, Milliseconds(0)};
  // grace * 2^(lookups-1), capped; never past the moment the list settles.
  auto wait = policy.grace;
  for (int doubling = 1; doubling < lookups && wait < policy.recheck_cap; ++doubling) wait *= 2;
  wait = std::min(wait, policy.recheck_cap);
  if (provider_answered) wait = std::min(wait, settles_after - since_placement);
  return {CheckDecision::Next::look_again, std::max(wait, Milliseconds(1'000))};
}

}  // namespace callgate::dialer
