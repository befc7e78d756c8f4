// Waiting in tests for something to happen: poll for it with a deadline.
// A fixed sleep is either too short on a busy 2-core machine (a flaky
// failure) or longer than needed everywhere else.
#pragma once

#include <chrono>
#include <thread>

namespace callgate::testing {

// Asks condition every 20 ms until it holds or timeout has passed; whether it held.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace callgate::testing
