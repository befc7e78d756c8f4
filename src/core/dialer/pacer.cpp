#include "core/dialer/pacer.hpp"

namespace callgate::dialer {

std::optional<std::chrono::milliseconds> Pacer::take(TimePoint now, unsigned calls_per_minute) {
  if (calls_per_minute == 0) return std::nullopt;
  if (now < next_free_) {
    // Rounded up: waking a millisecond early would only find the slot still taken.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_free_ - now);
    return wait;
  }
  next_free_ = now + std::chrono::duration_cast<TimePoint::duration>(std::chrono::minutes(1)) / calls_per_minute;
  return std::nullopt;
}

}  // namespace callgate::dialer
