#include "core/dialer/pacer.hpp"

#include <algorithm>

namespace callgate::dialer {

std::chrono::microseconds pacing_interval(unsigned calls_per_minute) {
  if (calls_per_minute == 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(std::chrono::minutes(1)) / calls_per_minute;
}

WallTime Pacer::reserve(WallTime now, unsigned calls_per_minute) {
  if (calls_per_minute == 0) return now;
  const auto slot = std::max(now, next_free_);
  next_free_ = slot + std::chrono::duration_cast<WallTime::duration>(pacing_interval(calls_per_minute));
  return slot;
}

}  // namespace callgate::dialer
