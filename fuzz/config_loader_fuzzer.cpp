// The config loader on any text: it reports problems as file:line errors
// and never throws or crashes, and a text it accepts is accepted again.
#include "core/config_loader.hpp"
#include "providers/exotel/settings.hpp"
#include "providers/simulator/settings.hpp"
#include "providers/twilio/settings.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace providers = callgate::providers;
  // The providers' sections themselves (the provider table would bring the
  // whole of each provider's I/O into the fuzzer).
  static const std::array<const callgate::ProviderConfigSection*, 3> sections = {
      &providers::twilio::twilio_section(), &providers::simulator::simulator_section(),
      &providers::exotel::exotel_section()};
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto loaded = callgate::load_config_text(input, "fuzz.yaml", callgate::no_environment(), sections);
  if (loaded.ok() && !callgate::load_config_text(input, "fuzz.yaml", callgate::no_environment(), sections).ok())
    std::abort();
  return 0;
}
