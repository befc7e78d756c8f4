// One per provider: after repeated retryable failures (the provider's API is
// down or refusing), new dials go to the next provider in the route's
// failover list instead of piling onto it; after a while one probe is let
// through, and its outcome closes the breaker or opens it again. Pure: the
// caller passes the time. Only placement outcomes count; a call that went
// through and was not answered says nothing about the provider.
#pragma once

#include <chrono>
#include <string_view>

namespace callgate::dialer {

struct BreakerPolicy {
  int failures_to_open = 5;                    // retryable failures in a row
  std::chrono::milliseconds open_for{30'000};  // before a probe is allowed
  friend bool operator==(const BreakerPolicy&, const BreakerPolicy&) = default;
};

class CircuitBreaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class State { closed, open, half_open };

  explicit CircuitBreaker(BreakerPolicy policy = {}) : policy_(policy) {}

  // Whether a dial may use this provider now. Open: no, until open_for has
  // passed; then yes once (the probe: the breaker is half open and says no
  // to others until the probe's outcome is in).
  bool allows(TimePoint now);
  void record_success();
  void record_retryable_failure(TimePoint now);
  State state() const { return state_; }

 private:
  BreakerPolicy policy_;
  State state_ = State::closed;
  int failures_in_a_row_ = 0;
  TimePoint opened_at_{};
  bool probe_out_ = false;
};

std::string_view to_string(CircuitBreaker::State state);

}  // namespace callgate::dialer
