// G.711 µ-law, the telephone network's 8-bit audio: Twilio's streams carry
// it, Exotel's carry 16-bit linear PCM, and agents speak Twilio's format, so
// every Exotel frame crosses this codec both ways.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace callgate::voice {

std::int16_t mulaw_to_linear(std::uint8_t code);
std::uint8_t linear_to_mulaw(std::int16_t sample);

// Whole buffers. Linear PCM is 16-bit little-endian, as Exotel and WAV keep
// it; a trailing odd byte of PCM is ignored.
std::string mulaw_to_pcm16le(std::string_view mulaw);
std::string pcm16le_to_mulaw(std::string_view pcm);

// The µ-law byte for silence (linear 0).
inline constexpr std::uint8_t kMulawSilence = 0xFF;

}  // namespace callgate::voice
