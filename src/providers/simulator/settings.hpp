// telephony.simulator: the simulator's section of the config, read,
// checked and reloaded here (core carries it as a ProviderSettings).
#pragma once

#include "core/config.hpp"
#include "core/duration.hpp"

#include <cstdint>
#include <string>

namespace callgate::providers::simulator {

// Whose wire format the simulated account speaks: its status callbacks
// and the call flow it fetches look like that provider's.
enum class SimulatorFormat { twilio, exotel };

struct SimulatorOutcomeWeights {
  unsigned answered = 60;
  unsigned busy = 15;
  unsigned no_answer = 20;
  unsigned failed = 5;

  bool operator==(const SimulatorOutcomeWeights&) const = default;
};

// The simulator: a provider account played by callgated itself, which never
// rings a phone. Its calls take the same paths a real provider's do: placed
// over HTTP, the call flow fetched signed, the status callbacks posted
// signed in the chosen provider's format.
struct SimulatorSettings {
  SimulatorFormat format = SimulatorFormat::twilio;  // whose callbacks it sends
  // Signs what it sends (Twilio's X-Twilio-Signature, or the HMAC Exotel's
  // format carries) and is its account's password. It guards simulated calls
  // only. Empty (the default): a random one is made at each start
  // (prepare_for_start), which is all the simulator needs, since it is both
  // ends of every call.
  std::string auth_token;
  std::string phone_number = "+15005550006";  // the number simulated calls come from
  SimulatorOutcomeWeights outcomes;           // relative weights
  Milliseconds ring_min{2'000};
  Milliseconds ring_max{8'000};
  Milliseconds talk_min{20'000};
  Milliseconds talk_max{90'000};
  unsigned speed = 1;                        // every delay divided by this: 10 plays a minute's call in 6 s
  std::uint64_t seed = 0;                    // 0: a new random seed at each start; else the same calls every run
  bool shuffle_callbacks = false;            // deliver each call's callbacks in a random order
  unsigned duplicate_callbacks_percent = 0;  // each callback delivered a second time with this chance
  std::string gather_digits = "1";           // what the simulated customer presses at a <Gather>

  bool operator==(const SimulatorSettings&) const = default;
};

class SimulatorSection final : public TypedProviderSection<SimulatorSettings> {
 public:
  SimulatorSection() : TypedProviderSection("simulator") {}

 protected:
  void read_section(SectionReader& section, SimulatorSettings& settings) const override;
  void validate_section(SimulatorSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const override;
  void reload_section(const SimulatorSettings& running, const SimulatorSettings& reloaded, SimulatorSettings& effective,
                      ReloadKeys& keys) const override;
};

const SimulatorSection& simulator_section();

// The simulator's settings in a config (the defaults when it has none).
inline const SimulatorSettings& settings_of(const Config& config) {
  return settings_in(config.telephony, simulator_section());
}
inline SimulatorSettings& settings_of(Config& config) { return settings_in(config.telephony, simulator_section()); }

}  // namespace callgate::providers::simulator
