#include "providers/simulator/settings.hpp"

#include <limits>

namespace callgate::providers::simulator {

const SimulatorSection& simulator_section() {
  static const SimulatorSection section;
  return section;
}

void SimulatorSection::read_section(SectionReader& section, SimulatorSettings& sim) const {
  section.choice<SimulatorFormat>("format", sim.format,
                                  {{"twilio", SimulatorFormat::twilio}, {"exotel", SimulatorFormat::exotel}});
  section.text("auth_token", sim.auth_token);
  section.text("phone_number", sim.phone_number);
  auto outcomes = section.section("outcomes");
  outcomes.number<unsigned>("answered", sim.outcomes.answered, 0, 1'000'000);
  outcomes.number<unsigned>("busy", sim.outcomes.busy, 0, 1'000'000);
  outcomes.number<unsigned>("no_answer", sim.outcomes.no_answer, 0, 1'000'000);
  outcomes.number<unsigned>("failed", sim.outcomes.failed, 0, 1'000'000);
  outcomes.finish();
  auto ring_time = section.section("ring_time");
  ring_time.duration("min", sim.ring_min, Milliseconds(0), Milliseconds(600'000));
  ring_time.duration("max", sim.ring_max, Milliseconds(0), Milliseconds(600'000));
  ring_time.finish();
  auto talk_time = section.section("talk_time");
  talk_time.duration("min", sim.talk_min, Milliseconds(0), Milliseconds(14'400'000));
  talk_time.duration("max", sim.talk_max, Milliseconds(0), Milliseconds(14'400'000));
  talk_time.finish();
  section.number<unsigned>("speed", sim.speed, 1, 10'000);
  section.number<std::uint64_t>("seed", sim.seed, 0, std::numeric_limits<std::uint64_t>::max());
  section.boolean("shuffle_callbacks", sim.shuffle_callbacks);
  section.number<unsigned>("duplicate_callbacks_percent", sim.duplicate_callbacks_percent, 0, 100);
  section.text("gather_digits", sim.gather_digits);
}

void SimulatorSection::validate_section(SimulatorSettings& sim, bool in_use, ConfigDiagnostics& diagnostics) const {
  diagnostics.check(sim.ring_min <= sim.ring_max, key("ring_time.max"), "expected at least ring_time.min");
  diagnostics.check(sim.talk_min <= sim.talk_max, key("talk_time.max"), "expected at least talk_time.min");
  diagnostics.check(sim.gather_digits.find_first_not_of("0123456789*#") == std::string::npos, key("gather_digits"),
                    "expected keys a phone has (0-9, * and #)");
  if (!in_use) return;
  const auto& weights = sim.outcomes;
  diagnostics.check(weights.answered + weights.busy + weights.no_answer + weights.failed > 0, key("outcomes"),
                    "expected at least one outcome with a weight above 0");
}

void SimulatorSection::reload_section(const SimulatorSettings& a, const SimulatorSettings& b,
                                      SimulatorSettings& effective, ReloadKeys& keys) const {
  // The account's random generator was seeded at start.
  keys.fixed(key("seed"), a.seed != b.seed);
  effective.seed = a.seed;
  // Made at start when the file leaves it empty: a reload must not change
  // it under calls in flight.
  if (b.auth_token.empty()) effective.auth_token = a.auth_token;
  keys.live(key("auth_token"), effective.auth_token != a.auth_token);
  // The rest is read at each simulated call and callback.
  keys.live(key("format"), a.format != b.format);
  keys.live(key("phone_number"), a.phone_number != b.phone_number);
  keys.live(key("outcomes"), a.outcomes != b.outcomes);
  keys.live(key("ring_time"), a.ring_min != b.ring_min || a.ring_max != b.ring_max);
  keys.live(key("talk_time"), a.talk_min != b.talk_min || a.talk_max != b.talk_max);
  keys.live(key("speed"), a.speed != b.speed);
  keys.live(key("shuffle_callbacks"), a.shuffle_callbacks != b.shuffle_callbacks);
  keys.live(key("duplicate_callbacks_percent"), a.duplicate_callbacks_percent != b.duplicate_callbacks_percent);
  keys.live(key("gather_digits"), a.gather_digits != b.gather_digits);
}

}  // namespace callgate::providers::simulator
