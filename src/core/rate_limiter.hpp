// Token buckets per client address: rate tokens a second, up to burst.
// Pure (time is a parameter); the caller guards it. Addresses not seen for
// a while are forgotten, so the table cannot grow without bound.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

namespace callgate {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double tokens_per_second, double burst, std::size_t max_clients = 100'000);

  // Takes a token for key; nothing when allowed, else how long until one is free.
  std::optional<std::chrono::milliseconds> take(const std::string& key, Clock::time_point now);

  void set_rate(double tokens_per_second, double burst);
  std::size_t tracked_clients() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void forget_idle(Clock::time_point now);

  double rate_;
  double burst_;
  std::size_t max_clients_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace callgate
