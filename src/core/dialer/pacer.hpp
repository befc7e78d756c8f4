// Spaces a provider account's new calls evenly, one every 60 s /
// calls_per_minute, so a burst of enquiries is paced to what the account
// takes (Twilio: 1 call a second unless raised; Exotel: 200 a minute)
// instead of being refused by the provider. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <optional>

namespace callgate::dialer {

class Pacer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Nothing: a call may go now (its slot is taken). Otherwise how long until
  // the next free slot. calls_per_minute 0: never paced.
  std::optional<std::chrono::milliseconds> take(TimePoint now, unsigned calls_per_minute);

 private:
  TimePoint next_free_{};
};

}  // namespace callgate::dialer
