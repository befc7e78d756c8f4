#include "core/civil_time.hpp"

#include <cstdio>

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
  const auto days = days_from_civil(year, month, day);
  // A day the month does not have (February 30th) is refused, not rolled into the next month.
  if (civil_from_days(days) != CivilDate{year, month, day}) return std::nullopt;
  const std::int64_t seconds = days * 86'400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return WallTime(std::chrono::seconds(seconds));
}

CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

std::optional<CivilDate> parse_civil_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = parse_decimal<std::int64_t>(text.substr(0, 4));
  const auto month = parse_decimal<unsigned>(text.substr(5, 2));
  const auto day = parse_decimal<unsigned>(text.substr(8, 2));
  if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  const CivilDate date{*year, *month, *day};
  // February 30th and the like come back as another date.
  if (civil_from_days(days_from_civil(date.year, date.month, date.day)) != date) return std::nullopt;
  return date;
}

std::string format_civil_date(CivilDate date) {
  char text[24];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02u", static_cast<long long>(date.year), date.month, date.day);
  return text;
}

unsigned weekday_from_days(std::int64_t days) { return static_cast<unsigned>((days % 7 + 7 + 4) % 7); }

std::string format_iso8601(WallTime time) {
  std::string text;
  append_iso8601(text, time);
  return text;
}

void append_iso8601(std::string& out, WallTime time) {
  const auto milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::int64_t days = milliseconds >= 0 ? milliseconds / 86'400'000 : (milliseconds - 86'399'999) / 86'400'000;
  std::int64_t rest = milliseconds - days * 86'400'000;
  const auto [year, month, day] = civil_from_days(days);
  if (year >= 0 && year <= 9999) {
    // Written digit by digit: this runs for every journal record.
    char text[] = "0000-00-00T00:00:00.000Z";
    auto digits = [&](std::size_t end, std::int64_t value, int count) {
      for (int index = 0; index < count; ++index, value /= 10)
        text[end - static_cast<std::size_t>(index)] = static_cast<char>('0' + value % 10);
    };
    digits(3, year, 4);
    digits(6, month, 2);
    digits(9, day, 2);
    digits(12, rest / 3'600'000, 2);
    digits(15, rest / 60'000 % 60, 2);
    digits(18, rest / 1000 % 60, 2);
    digits(22, rest % 1000, 3);
    out.append(text, sizeof text - 1);
    return;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(year),
                month, day, static_cast<long long>(rest / 3'600'000), static_cast<long long>(rest / 60'000 % 60),
                static_cast<long long>(rest / 1000 % 60), static_cast<long long>(rest % 1000));
  out.append(buffer);
}

std::optional<WallTime> parse_iso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z|±hh:mm
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  const auto year = parse_decimal<int>(text.substr(0, 4));
  const auto month = parse_decimal<unsigned>(text.substr(5, 2));
  const auto day = parse_decimal<unsigned>(text.substr(8, 2));
  const auto hour = parse_decimal<unsigned>(text.substr(11, 2));
  const auto minute = parse_decimal<unsigned>(text.substr(14, 2));
  const auto second = parse_decimal<unsigned>(text.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  auto rest = text.substr(19);
  std::int64_t milliseconds = 0;
  if (rest.starts_with('.')) {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    auto fraction = std::string(rest.substr(1, digits - 1));
    if (fraction.empty()) return std::nullopt;
    fraction.resize(3, '0');
    milliseconds = *parse_decimal<int>(fraction);
    rest = rest.substr(digits);
  }
  std::int64_t offset = 0;
  if (rest == "Z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const auto hours = parse_decimal<unsigned>(rest.substr(1, 2));
    const auto minutes = parse_decimal<unsigned>(rest.substr(4, 2));
    if (!hours || !minutes) return std::nullopt;
    offset = (*hours * 3600 + *minutes * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  auto time = wall_time_from_civil(*year, *month, *day, *hour, *minute, *second, offset);
  if (!time) return std::nullopt;
  return *time + std::chrono::milliseconds(milliseconds);
}

}  // namespace callgate
