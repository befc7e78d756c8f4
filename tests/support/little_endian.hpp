// Reading the little-endian integers of a file format a test checks byte
// by byte (a WAV header's sizes and rates).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace callgate::testing {

inline std::uint32_t u32_at(const std::string& bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (int index = 3; index >= 0; --index)
    value = (value << 8) | static_cast<std::uint8_t>(bytes[offset + static_cast<std::size_t>(index)]);
  return value;
}

}  // namespace callgate::testing
