#include "core/dialer/circuit_breaker.hpp"

namespace callgate::dialer {

bool CircuitBreaker::allows(TimePoint now) {
  switch (state_) {
    case State::closed:
      return true;
    case State::open:
      if (now - opened_at_ < policy_.open_for) return false;
      state_ = State::half_open;
      probe_out_ = true;
      return true;
    case State::half_open:
      // One probe at a time; a probe whose outcome never came (lost) is
      // replaced after another open_for.
      if (probe_out_ && now - opened_at_ < 2 * policy_.open_for) return false;
      opened_at_ = now - policy_.open_for;
      probe_out_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  state_ = State::closed;
  failures_in_a_row_ = 0;
  probe_out_ = false;
}

void CircuitBreaker::record_retryable_failure(TimePoint now) {
  ++failures_in_a_row_;
  if (state_ == State::half_open || failures_in_a_row_ >= policy_.failures_to_open) {
    state_ = State::open;
    opened_at_ = now;
    probe_out_ = false;
  }
}

std::string_view to_string(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::closed:
      return "closed";
    case CircuitBreaker::State::open:
      return "open";
    case CircuitBreaker::State::half_open:
      return "half_open";
  }
  return "?";
}

}  // namespace callgate::dialer
