#include "core/civil_time.hpp"

namespace callgate {

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

std::optional<WallTime> wall_time_from_civil(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                                             unsigned minute, unsigned second, std::int64_t offset_seconds) {
  // 60 seconds: a leap second, as RFC 2822 allows.
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t seconds =
      days_from_civil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return WallTime(std::chrono::seconds(seconds));
}

}  // namespace callgate
