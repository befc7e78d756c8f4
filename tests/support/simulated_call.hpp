// Test support: a call the simulated account took, for the simulator's
// unit tests: lead L1, at a fixed moment, calling back into 127.0.0.1:8080.
#pragma once

#include "providers/simulator/call_script.hpp"

namespace callgate::testing {

inline constexpr const char* kSimulatedLead = "L1";

inline providers::simulator::SimulatedCall a_simulated_call() {
  providers::simulator::SimulatedCall call;
  call.sid = "CA0123456789abcdef0123456789abcdef";
  call.to = "+919876543210";
  call.from = "+15005550006";
  call.call_flow_url = "http://127.0.0.1:8080/twiml?leadId=L1";
  call.status_callback = "http://127.0.0.1:8080/webhook/simulator?leadId=L1";
  call.created = WallTime(std::chrono::seconds(1'800'000'000));
  return call;
}

}  // namespace callgate::testing
