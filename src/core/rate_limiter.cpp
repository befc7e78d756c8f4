#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace callgate {

RateLimiter::RateLimiter(double tokens_per_second, double burst, std::size_t max_clients)
    : rate_(tokens_per_second), burst_(burst), max_clients_(max_clients) {}

void RateLimiter::set_rate(double tokens_per_second, double burst) {
  rate_ = tokens_per_second;
  burst_ = burst;
}

void RateLimiter::forget_idle(Clock::time_point now) {
  // A bucket that has refilled completely carries no information.
  std::erase_if(buckets_, [&](const auto& entry) {
    const auto idle = std::chrono::duration<double>(now - entry.second.updated).count();
    return entry.second.tokens + idle * rate_ >= burst_;
  });
}

std::optional<std::chrono::milliseconds> RateLimiter::take(const std::string& key, Clock::time_point now) {
  if (buckets_.size() >= max_clients_) forget_idle(now);
  auto [entry, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  auto& bucket = entry->second;
  if (!fresh) {
    const auto elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * rate_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  const auto wait_seconds = (1.0 - bucket.tokens) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(wait_seconds * 1000)));
}

}  // namespace callgate
