// Calendar dates and decimal fields as providers write them, turned into
// wall-clock times. Pure.
#pragma once

#include "core/lead/lead.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callgate {

// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

struct CivilDate {
  std::int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};
// The inverse of days_from_civil.
CivilDate civil_from_days(std::int64_t days);
// "2026-12-25" both ways; nothing for text that is not a real date.
std::optional<CivilDate> parse_civil_date(std::string_view text);
std::string format_civil_date(CivilDate date);

// Division rounding toward minus infinity (days from seconds before 1970).
constexpr std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  return value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}
// 0 = Sunday ... 6 = Saturday, for days since 1970-01-01 (a Thursday).
unsigned weekday_from_days(std::int64_t days);

// The moment a civil date and time names at offset_seconds east of UTC;
// nothing when a field is out of range (month 13, hour 24, ...).
std::optional<WallTime> wall_time_from_civil(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                                             unsigned minute, unsigned second, std::int64_t offset_seconds);

// "2026-11-25T13:40:10.736Z": UTC, milliseconds, as the API and the
// journal write times.
std::string format_iso8601(WallTime time);
// The same, appended to out (no string of its own: every event record has one).
void append_iso8601(std::string& out, WallTime time);
// Reads what format_iso8601 writes (fraction optional, "Z" or "+hh:mm").
std::optional<WallTime> parse_iso8601(std::string_view text);

// The whole of text as a decimal number; nothing for anything else.
template <class Number>
std::optional<Number> parse_decimal(std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace callgate
