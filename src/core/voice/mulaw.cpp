#include "core/voice/mulaw.hpp"

#include <array>

namespace callgate::voice {
namespace {

constexpr int kBias = 0x84;  // added before the segment search, as G.711 specifies
constexpr int kClip = 32635;

// Decoding is on every frame of every call (recording, Exotel): a table of
// 256 entries, built once at compile time.
constexpr std::int16_t decode(std::uint8_t code) {
  const int inverted = ~code & 0xFF;
  const int exponent = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  const int magnitude = (((mantissa << 3) + kBias) << exponent) - kBias;
  return static_cast<std::int16_t>((inverted & 0x80) ? -magnitude : magnitude);
}

constexpr std::array<std::int16_t, 256> make_table() {
  std::array<std::int16_t, 256> table{};
  for (int code = 0; code < 256; ++code)
    table[static_cast<std::size_t>(code)] = decode(static_cast<std::uint8_t>(code));
  return table;
}
constexpr auto kDecodeTable = make_table();

}  // namespace

std::int16_t mulaw_to_linear(std::uint8_t code) { return kDecodeTable[code]; }

std::uint8_t linear_to_mulaw(std::int16_t sample) {
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0x00;
  if (value < 0) value = -value;
  if (value > kClip) value = kClip;
  value += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (value & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa) & 0xFF);
}

std::string mulaw_to_pcm16le(std::string_view mulaw) {
  std::string pcm(mulaw.size() * 2, '\0');
  for (std::size_t index = 0; index < mulaw.size(); ++index) {
    const auto sample = static_cast<std::uint16_t>(mulaw_to_linear(static_cast<std::uint8_t>(mulaw[index])));
    pcm[2 * index] = static_cast<char>(sample & 0xFF);
    pcm[2 * index + 1] = static_cast<char>(sample >> 8);
  }
  return pcm;
}

std::string pcm16le_to_mulaw(std::string_view pcm) {
  std::string mulaw(pcm.size() / 2, '\0');
  for (std::size_t index = 0; index < mulaw.size(); ++index) {
    const auto low = static_cast<std::uint8_t>(pcm[2 * index]);
    const auto high = static_cast<std::uint8_t>(pcm[2 * index + 1]);
    const auto sample = static_cast<std::int16_t>(static_cast<std::uint16_t>(low | (high << 8)));
    mulaw[index] = static_cast<char>(linear_to_mulaw(sample));
  }
  return mulaw;
}

}  // namespace callgate::voice
