#include "core/lead/lead_id.hpp"

#include "core/crypto.hpp"

#include <algorithm>

namespace callgate {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int alphabet_index(char c) {
  const auto position = kAlphabet.find(c);
  return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

}  // namespace

std::string LeadIdGenerator::next(WallTime now) {
  const auto millisecond = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  last_millisecond_ = std::max(last_millisecond_, millisecond);
  std::array<std::uint8_t, 10> random{};
  fill_random(random);

  // 128 bits: 48 of time, 80 random, written 5 bits at a time from the top
  // (the first character carries the top 3 bits of 130).
  std::array<std::uint8_t, 16> bytes{};
  const auto time = static_cast<std::uint64_t>(last_millisecond_);
  for (int index = 0; index < 6; ++index)
    bytes[static_cast<std::size_t>(index)] = static_cast<std::uint8_t>(time >> (8 * (5 - index)));
  for (std::size_t index = 0; index < 10; ++index) bytes[6 + index] = random[index];
  std::string id(26, '0');
  for (int character = 0; character < 26; ++character) {
    const int bit_offset = character * 5 - 2;  // from the top of 128 bits, with 2 padding bits in front
    unsigned value = 0;
    for (int bit = 0; bit < 5; ++bit) {
      const int position = bit_offset + bit;
      value <<= 1;
      if (position >= 0) value |= (bytes[static_cast<std::size_t>(position / 8)] >> (7 - position % 8)) & 1u;
    }
    id[static_cast<std::size_t>(character)] = kAlphabet[value];
  }
  return id;
}

bool is_lead_id(std::string_view text) {
  if (text.size() != 26 || alphabet_index(text[0]) > 7) return false;
  for (const char c : text)
    if (alphabet_index(c) < 0) return false;
  return true;
}

std::optional<WallTime> lead_id_time(std::string_view lead_id) {
  if (!is_lead_id(lead_id)) return std::nullopt;
  std::uint64_t milliseconds = 0;
  for (std::size_t index = 0; index < 10; ++index)
    milliseconds = milliseconds * 32 + static_cast<std::uint64_t>(alphabet_index(lead_id[index]));
  return WallTime(std::chrono::milliseconds(static_cast<std::int64_t>(milliseconds)));
}

std::string lead_id_floor(WallTime time) {
  const auto millisecond = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  auto value = static_cast<std::uint64_t>(std::clamp<std::int64_t>(millisecond, 0, (std::int64_t{1} << 48) - 1));
  // The time's ten characters (as lead_id_time reads them), then the least random part.
  std::string id(26, '0');
  for (int character = 9; character >= 0; --character) {
    id[static_cast<std::size_t>(character)] = kAlphabet[value % 32];
    value /= 32;
  }
  return id;
}

}  // namespace callgate
