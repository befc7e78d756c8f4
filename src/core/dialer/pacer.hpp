// Spaces a provider account's new calls evenly, one every 60 s /
// calls_per_minute, so a burst of enquiries is paced to what the account
// takes (Twilio: 1 call a second unless raised; Exotel: 200 a minute)
// instead of being refused by the provider. Each call reserves a slot: the
// first free one at or after now. Pure: the caller passes the time.
// (The Redis scheduler keeps the same arithmetic in a script, shared by hosts.)
#pragma once

#include "core/civil_time.hpp"

#include <chrono>

namespace callgate::dialer {

// The gap between two calls of an account; zero when not paced.
std::chrono::microseconds pacing_interval(unsigned calls_per_minute);

class Pacer {
 public:
  // The slot reserved: now when the call may go at once, else a later time.
  // calls_per_minute 0: never paced.
  WallTime reserve(WallTime now, unsigned calls_per_minute);

 private:
  WallTime next_free_{};
};

}  // namespace callgate::dialer
