#include "core/voice/mulaw.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>

using namespace callgate::voice;

BOOST_AUTO_TEST_SUITE(mulaw)

BOOST_AUTO_TEST_CASE(known_codes_decode_to_the_g711_values) {
  BOOST_TEST(mulaw_to_linear(0xFF) == 0);
  BOOST_TEST(mulaw_to_linear(0x7F) == 0);  // negative zero
  BOOST_TEST(mulaw_to_linear(0x80) == 32124);
  BOOST_TEST(mulaw_to_linear(0x00) == -32124);
  BOOST_TEST(mulaw_to_linear(0xFE) == 8);
  BOOST_TEST(mulaw_to_linear(0x7E) == -8);
}

BOOST_AUTO_TEST_CASE(every_code_survives_a_round_trip) {
  for (int code = 0; code < 256; ++code) {
    const auto back = linear_to_mulaw(mulaw_to_linear(static_cast<std::uint8_t>(code)));
    // Negative zero (0x7F) encodes as positive zero.
    BOOST_TEST(back == (code == 0x7F ? 0xFF : code), "code " << code);
  }
}

BOOST_AUTO_TEST_CASE(encoding_is_monotonic_and_clips) {
  BOOST_TEST(linear_to_mulaw(0) == kMulawSilence);
  BOOST_TEST(linear_to_mulaw(32767) == 0x80);
  BOOST_TEST(linear_to_mulaw(-32768) == 0x00);
  int previous = mulaw_to_linear(linear_to_mulaw(-32768));
  for (int sample = -32768; sample <= 32767; sample += 7) {
    const int decoded = mulaw_to_linear(linear_to_mulaw(static_cast<std::int16_t>(sample)));
    BOOST_TEST(decoded >= previous);
    // The quantization error grows with the magnitude, never past 1/16 of it (plus the bias step).
    BOOST_TEST(std::abs(decoded - std::min(sample, 32635)) <= std::abs(sample) / 16 + 8, "sample " << sample);
    previous = decoded;
  }
}

BOOST_AUTO_TEST_CASE(buffers_convert_both_ways_in_little_endian) {
  const std::string mulaw{'\xFF', '\x80', '\x00'};
  const auto pcm = mulaw_to_pcm16le(mulaw);
  BOOST_TEST(pcm.size() == 6u);
  BOOST_TEST(pcm.substr(2, 2) == std::string("\x7C\x7D"));  // 32124 = 0x7D7C
  BOOST_TEST(pcm16le_to_mulaw(pcm) == mulaw);
  BOOST_TEST(pcm16le_to_mulaw(pcm + "\x01") == mulaw);  // a trailing odd byte is not a sample
}

BOOST_AUTO_TEST_SUITE_END()
