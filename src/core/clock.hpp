// The clocks, behind an interface where a component's decisions depend on
// them (the dialer), so a test can set the time instead of waiting for it.
#pragma once

#include "core/lead/lead.hpp"

#include <chrono>

namespace callgate {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;                                      // calendar time: due times, records
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;  // intervals: circuit breakers
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override { return WallClock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
};

// The process's one system clock.
inline const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace callgate
