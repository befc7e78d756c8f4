// The config loader on any text: it reports problems as file:line errors
// and never throws or crashes, and a text it accepts is accepted again.
#include "core/config_loader.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto loaded = callgate::load_config_text(input, "fuzz.yaml", callgate::no_environment());
  if (loaded.ok() && !callgate::load_config_text(input, "fuzz.yaml", callgate::no_environment()).ok()) std::abort();
  return 0;
}
