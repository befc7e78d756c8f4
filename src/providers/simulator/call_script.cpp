#include "providers/simulator/call_script.hpp"

#include "providers/exotel/webhook.hpp"
#include "providers/simulator/settings.hpp"

#include "core/civil_time.hpp"
#include "core/crypto.hpp"
#include "http/form/form_codec.hpp"
#include "http/server/http_date.hpp"
#include "providers/twilio/signature.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace callgate::providers::simulator {
namespace {

using std::chrono::milliseconds;

// Uniform in [0, count): the modulo bias is far below what a simulation notices.
std::uint64_t below(std::mt19937_64& random, std::uint64_t count) { return count == 0 ? 0 : random() % count; }

milliseconds between(std::mt19937_64& random, milliseconds low, milliseconds high) {
  return low + milliseconds(below(random, static_cast<std::uint64_t>((high - low).count()) + 1));
}

std::int64_t whole_seconds(milliseconds duration) { return (duration.count() + 500) / 1000; }

// The SIP code a carrier ends each outcome with.
std::string_view sip_code(SimulatedOutcome outcome) {
  switch (outcome) {
    case SimulatedOutcome::answered:
      return "200";
    case SimulatedOutcome::busy:
      return "486";
    case SimulatedOutcome::no_answer:
      return "487";
    case SimulatedOutcome::failed:
      return "500";
  }
  return "500";
}

// One event of the call as it happens, before it is written in a format.
struct Happening {
  milliseconds at;
  CallStatus status;
  bool fetch_call_flow = false;  // the call-flow request, not a callback
};

http::ClientRequest twilio_callback(const SimulatorSettings& config, const SimulatedCall& call,
                                    const CallScript& script, const Happening& happening, std::uint64_t sequence,
                                    WallTime when) {
  auto fields = twilio_call_fields(call, happening.status);
  fields.emplace_back("CallbackSource", "call-progress-events");
  fields.emplace_back("SequenceNumber", std::to_string(sequence));
  fields.emplace_back("Timestamp", format_rfc2822(when));
  if (is_terminal(happening.status)) {
    const auto talked = happening.status == CallStatus::completed ? whole_seconds(script.talk) : 0;
    fields.emplace_back("CallDuration", std::to_string(talked));
    fields.emplace_back("SipResponseCode", std::string(sip_code(script.outcome)));
    // Twilio bills whole minutes.
    if (happening.status == CallStatus::completed) fields.emplace_back("Duration", std::to_string((talked + 59) / 60));
  }
  return signed_twilio_post(config, call.status_callback, fields);
}

std::string_view exotel_status_word(CallStatus status) {
  return status == CallStatus::in_progress ? "in-progress" : to_string(status);
}

http::ClientRequest exotel_callback(const SimulatorSettings& config, const SimulatedCall& call,
                                    const CallScript& script, const Happening& happening, WallTime when) {
  const bool terminal = is_terminal(happening.status);
  boost::json::object body{{"CallSid", call.sid},
                           {"EventType", terminal ? "terminal" : "answered"},
                           {"Status", exotel_status_word(happening.status)},
                           {"DateCreated", format_exotel_time(call.created)},
                           {"DateUpdated", format_exotel_time(when)},
                           {"Direction", "outbound-api"},
                           {"From", call.to},
                           {"To", nullptr},
                           {"PhoneNumberSid", call.from}};
  if (terminal) {
    const auto talked = happening.status == CallStatus::completed ? whole_seconds(script.talk) : 0;
    body["ConversationDuration"] = talked;
    body["StartTime"] = format_exotel_time(call.created);
    body["EndTime"] = format_exotel_time(when);
    body["Legs"] = boost::json::array{
        boost::json::object{{"Status", exotel_status_word(happening.status)}, {"OnCallDuration", talked}}};
  }
  http::ClientRequest request;
  request.method = boost::beast::http::verb::post;
  request.url = call.status_callback;
  request.body = boost::json::serialize(body);
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Exotel-Signature", callgate::providers::exotel::request_signature(config.auth_token, "POST",
                                                                                           request.url, request.body)}};
  return request;
}

}  // namespace

http::FormFields twilio_call_fields(const SimulatedCall& call, CallStatus status) {
  return {{"AccountSid", std::string(kAccountSid)},
          {"ApiVersion", "2010-04-01"},
          {"CallSid", call.sid},
          {"CallStatus", std::string(to_string(status))},
          {"Called", call.to},
          {"Caller", call.from},
          {"Direction", "outbound-api"},
          {"From", call.from},
          {"To", call.to}};
}

http::ClientRequest signed_twilio_post(const SimulatorSettings& config, const std::string& url,
                                       const http::FormFields& fields) {
  http::ClientRequest request;
  request.method = boost::beast::http::verb::post;
  request.url = url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"X-Twilio-Signature", twilio::compute_signature(config.auth_token, url, fields)}};
  request.body = http::encode_form(fields);
  return request;
}

std::string_view to_string(SimulatedOutcome outcome) {
  switch (outcome) {
    case SimulatedOutcome::answered:
      return "answered";
    case SimulatedOutcome::busy:
      return "busy";
    case SimulatedOutcome::no_answer:
      return "no-answer";
    case SimulatedOutcome::failed:
      return "failed";
  }
  return "?";
}

CallStatus final_status(SimulatedOutcome outcome) {
  switch (outcome) {
    case SimulatedOutcome::answered:
      return CallStatus::completed;
    case SimulatedOutcome::busy:
      return CallStatus::busy;
    case SimulatedOutcome::no_answer:
      return CallStatus::no_answer;
    case SimulatedOutcome::failed:
      return CallStatus::failed;
  }
  return CallStatus::failed;
}

std::string new_call_sid(std::mt19937_64& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sid = "CA";
  for (int word = 0; word < 2; ++word) {
    auto bits = random();
    for (int digit = 0; digit < 16; ++digit, bits >>= 4) sid.push_back(kHex[bits & 0xf]);
  }
  return sid;
}

SimulatedOutcome pick_outcome(const SimulatorOutcomeWeights& weights, std::mt19937_64& random) {
  const std::uint64_t total = std::uint64_t{weights.answered} + weights.busy + weights.no_answer + weights.failed;
  auto draw = below(random, total);
  if (draw < weights.answered) return SimulatedOutcome::answered;
  draw -= weights.answered;
  if (draw < weights.busy) return SimulatedOutcome::busy;
  draw -= weights.busy;
  if (draw < weights.no_answer) return SimulatedOutcome::no_answer;
  return SimulatedOutcome::failed;
}

CallScript write_call_script(const SimulatorSettings& config, const SimulatedCall& call, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  CallScript script;
  script.outcome = pick_outcome(config.outcomes, random);
  script.ring = between(random, config.ring_min, config.ring_max);
  if (script.outcome == SimulatedOutcome::answered) script.talk = between(random, config.talk_min, config.talk_max);

  // The call as it happens, unscaled: the network takes a moment to start
  // it and a second to reach the customer's phone.
  const milliseconds started(200), reached(1'000);
  std::vector<Happening> happenings;
  const bool twilio_format = config.format == SimulatorFormat::twilio;
  if (twilio_format) happenings.push_back({started, CallStatus::initiated});
  if (script.outcome == SimulatedOutcome::failed) {
    happenings.push_back({reached, CallStatus::failed});
  } else {
    if (twilio_format) happenings.push_back({reached, CallStatus::ringing});
    const auto picked_up = reached + script.ring;
    if (script.outcome == SimulatedOutcome::answered) {
      // Twilio fetches what to play first, then reports the answer.
      if (twilio_format) happenings.push_back({picked_up, CallStatus::in_progress, true});
      happenings.push_back({picked_up, CallStatus::in_progress});
      happenings.push_back({picked_up + script.talk, CallStatus::completed});
    } else {
      happenings.push_back({picked_up, final_status(script.outcome)});
    }
  }

  const auto scaled = [&](milliseconds at) { return at / config.speed; };
  std::uint64_t sequence = 0;
  for (const auto& happening : happenings) {
    ScriptStep step;
    step.at = scaled(happening.at);
    step.status = happening.status;
    const auto when = call.created + step.at;
    if (happening.fetch_call_flow) {
      step.kind = StepKind::call_flow;
      step.request = signed_twilio_post(config, call.call_flow_url, twilio_call_fields(call, CallStatus::in_progress));
    } else {
      step.request = twilio_format ? twilio_callback(config, call, script, happening, sequence++, when)
                                   : exotel_callback(config, call, script, happening, when);
    }
    script.steps.push_back(std::move(step));
  }

  // Delivery order: shuffled callbacks keep the times callbacks were due at
  // but swap what is sent at each; a repeated one follows its first a little later.
  if (config.shuffle_callbacks) {
    std::vector<std::size_t> callbacks;
    for (std::size_t index = 0; index < script.steps.size(); ++index)
      if (script.steps[index].kind == StepKind::callback) callbacks.push_back(index);
    for (std::size_t index = callbacks.size(); index > 1; --index) {
      const auto other = below(random, index);
      auto& a = script.steps[callbacks[index - 1]];
      auto& b = script.steps[callbacks[other]];
      std::swap(a.status, b.status);
      std::swap(a.request, b.request);
    }
  }
  if (config.duplicate_callbacks_percent > 0) {
    std::vector<ScriptStep> repeats;
    for (const auto& step : script.steps) {
      if (step.kind != StepKind::callback || below(random, 100) >= config.duplicate_callbacks_percent) continue;
      ScriptStep repeat = step;
      repeat.at += scaled(milliseconds(300));
      repeat.repeated = true;
      // A redelivery carries Twilio's idempotency token, as Twilio's retries do.
      if (twilio_format)
        repeat.request.headers.emplace_back("I-Twilio-Idempotency-Token",
                                            call.sid + "-" + std::to_string(repeats.size()));
      repeats.push_back(std::move(repeat));
    }
    for (auto& repeat : repeats) script.steps.push_back(std::move(repeat));
  }
  std::stable_sort(script.steps.begin(), script.steps.end(),
                   [](const ScriptStep& a, const ScriptStep& b) { return a.at < b.at; });
  return script;
}

std::string format_rfc2822(WallTime time) {
  auto text = http::format_http_date(WallClock::to_time_t(time));  // "..., 21:06:22 GMT"
  text.replace(text.size() - 3, 3, "+0000");
  return text;
}

std::string format_exotel_time(WallTime time) {
  constexpr std::int64_t kIndiaOffset = 5 * 3600 + 30 * 60;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count() + kIndiaOffset;
  const auto date = civil_from_days(floor_div(seconds, 86'400));
  const auto in_day = seconds - floor_div(seconds, 86'400) * 86'400;
  char text[32];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(date.year),
                date.month, date.day, static_cast<long long>(in_day / 3600), static_cast<long long>(in_day / 60 % 60),
                static_cast<long long>(in_day % 60));
  return text;
}

}  // namespace callgate::providers::simulator
