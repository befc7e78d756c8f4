// What a simulated call does, decided before it starts: its outcome, its
// ring and talk times, and every request the provider's side will make
// (status callbacks, the call-flow fetch), each signed and timed. Pure: the
// account (account.hpp) only sends them when their time comes.
//
// The same seed gives the same script, so a run can be repeated; the
// config's outcome weights, time ranges, speed, shuffling and duplication
// all act here.
#pragma once

#include "core/config.hpp"
#include "core/lead/call_status.hpp"
#include "core/lead/lead.hpp"
#include "http/client/exchange.hpp"
#include "http/form/form_codec.hpp"
#include "providers/simulator/settings.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::providers::simulator {

// The account sid the simulator's Twilio-format requests carry.
inline constexpr std::string_view kAccountSid = "AC00000000000000000000000000000000";

enum class SimulatedOutcome { answered, busy, no_answer, failed };
std::string_view to_string(SimulatedOutcome outcome);
// The status a call with this outcome ends in.
CallStatus final_status(SimulatedOutcome outcome);

// A call the simulated account accepted: its Create-call form, checked.
struct SimulatedCall {
  std::string sid;  // "CA" + 32 hex digits
  std::string to;   // the customer
  std::string from;
  std::string call_flow_url;    // fetched, signed, when the call is answered (Twilio format)
  std::string status_callback;  // where every callback goes
  WallTime created{};
};

// "CA" and 32 lowercase hex digits from random.
std::string new_call_sid(std::mt19937_64& random);

enum class StepKind {
  callback,   // a status callback
  call_flow,  // the call-flow document, fetched when the customer answers
};

struct ScriptStep {
  std::chrono::milliseconds at{0};  // after the call was created, speed applied
  StepKind kind = StepKind::callback;
  CallStatus status = CallStatus::queued;  // a callback's status (in-progress for the call flow)
  bool repeated = false;                   // a second delivery of the callback before it
  http::ClientRequest request;             // complete and signed
};

struct CallScript {
  SimulatedOutcome outcome = SimulatedOutcome::answered;
  std::chrono::milliseconds ring{0};  // as drawn, before speed
  std::chrono::milliseconds talk{0};  // answered calls only
  std::vector<ScriptStep> steps;      // in the order they are sent (by at)
};

// Picks an outcome by the configured weights (at least one above zero).
SimulatedOutcome pick_outcome(const SimulatorOutcomeWeights& weights, std::mt19937_64& random);

// Twilio format: initiated, ringing, then in-progress (after the call flow
// is fetched) and completed for an answered call, or busy / no-answer after
// ringing, or failed straight after initiated; SequenceNumber counts from
// 0 in the order the events happen, whatever order they are delivered in.
// Exotel format: an answered event and a terminal one (Exotel sends nothing
// for ringing), as JSON.
CallScript write_call_script(const SimulatorSettings& config, const SimulatedCall& call, std::uint64_t seed);

// The fields Twilio sends about a call with every request (AccountSid,
// CallSid, CallStatus, From, To, ...).
http::FormFields twilio_call_fields(const SimulatedCall& call, CallStatus status);
// A form POST to url signed as Twilio signs it, with config.auth_token.
http::ClientRequest signed_twilio_post(const SimulatorSettings& config, const std::string& url,
                                       const http::FormFields& fields);

// RFC 2822 as Twilio writes it: "Tue, 01 Dec 2026 21:06:22 +0000".
std::string format_rfc2822(WallTime time);
// Exotel's "YYYY-MM-DD HH:MM:SS" in India Standard Time.
std::string format_exotel_time(WallTime time);

}  // namespace callgate::providers::simulator
