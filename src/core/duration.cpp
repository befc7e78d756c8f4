#include "core/duration.hpp"

#include <charconv>
#include <limits>

namespace callgate {

std::optional<Milliseconds> parse_duration(std::string_view text) {
  std::uint64_t amount = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [after_number, error] = std::from_chars(begin, end, amount);
  if (error != std::errc{} || after_number == begin) return std::nullopt;

  const std::string_view unit(after_number, static_cast<std::size_t>(end - after_number));
  std::uint64_t unit_ms = 0;
  if (unit == "ms")
    unit_ms = 1;
  else if (unit == "s")
    unit_ms = 1000;
  else if (unit == "m")
    unit_ms = 60'000;
  else if (unit == "h")
    unit_ms = 3'600'000;
  else
    return std::nullopt;

  // Ten years is far beyond any timeout; refusing more keeps arithmetic on
  // deadlines (now + value) clear of overflow.
  constexpr std::uint64_t ten_years_ms = 10ULL * 366 * 24 * 3'600'000;
  if (amount > ten_years_ms / unit_ms) return std::nullopt;
  return Milliseconds(static_cast<Milliseconds::rep>(amount * unit_ms));
}

std::string format_duration(Milliseconds value) {
  const auto ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace callgate
