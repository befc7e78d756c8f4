#include "core/dialer/time_zone.hpp"

#include "core/civil_time.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

namespace callgate::dialer {

namespace {

constexpr std::int64_t kDay = 86'400;

// A cursor over a POSIX TZ string.
struct Text {
  std::string_view rest;
  bool take(char c) {
    if (rest.empty() || rest.front() != c) return false;
    rest.remove_prefix(1);
    return true;
  }
  std::optional<unsigned> number(unsigned most_digits) {
    unsigned value = 0, digits = 0;
    while (!rest.empty() && digits < most_digits && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      value = value * 10 + static_cast<unsigned>(rest.front() - '0');
      rest.remove_prefix(1);
      ++digits;
    }
    return digits ? std::optional<unsigned>(value) : std::nullopt;
  }
  // "EST" or "<+0530>": at least three characters.
  bool zone_name() {
    if (take('<')) {
      const auto close = rest.find('>');
      if (close == std::string_view::npos || close < 3) return false;
      rest.remove_prefix(close + 1);
      return true;
    }
    std::size_t length = 0;
    while (length < rest.size() && std::isalpha(static_cast<unsigned char>(rest[length]))) ++length;
    if (length < 3) return false;
    rest.remove_prefix(length);
    return true;
  }
  // [+-]hh[:mm[:ss]] as seconds, hours up to most_hours.
  std::optional<std::int32_t> duration(unsigned most_hours) {
    int sign = 1;
    if (take('-'))
      sign = -1;
    else
      take('+');
    const auto hours = number(3);
    if (!hours || *hours > most_hours) return std::nullopt;
    std::int32_t seconds = static_cast<std::int32_t>(*hours) * 3600;
    if (take(':')) {
      const auto minutes = number(2);
      if (!minutes || *minutes > 59) return std::nullopt;
      seconds += static_cast<std::int32_t>(*minutes) * 60;
      if (take(':')) {
        const auto secs = number(2);
        if (!secs || *secs > 59) return std::nullopt;
        seconds += static_cast<std::int32_t>(*secs);
      }
    }
    return sign * seconds;
  }
  bool starts_offset() const {
    return !rest.empty() &&
           (std::isdigit(static_cast<unsigned char>(rest.front())) || rest.front() == '+' || rest.front() == '-');
  }
};

std::uint32_t big_endian_u32(std::string_view bytes, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
}

std::int64_t big_endian_i64(std::string_view bytes, std::size_t at) {
  const auto high = static_cast<std::uint64_t>(big_endian_u32(bytes, at));
  const auto low = static_cast<std::uint64_t>(big_endian_u32(bytes, at + 4));
  return static_cast<std::int64_t>((high << 32) | low);
}

}  // namespace

std::optional<PosixRule> PosixRule::parse(std::string_view source) {
  Text text{source};
  PosixRule rule;
  if (!text.zone_name()) return std::nullopt;
  const auto standard = text.duration(24);
  if (!standard) return std::nullopt;
  rule.standard_offset_ = -*standard;  // POSIX counts west of UTC
  if (text.rest.empty()) return rule;
  if (!text.zone_name()) return std::nullopt;
  rule.daylight_offset_ = rule.standard_offset_ + 3600;
  if (text.starts_offset()) {
    const auto daylight = text.duration(24);
    if (!daylight) return std::nullopt;
    rule.daylight_offset_ = -*daylight;
  }
  auto change = [&](Change& into) {
    // Only the Mm.w.d form: the only one the tz database writes.
    if (!text.take(',') || !text.take('M')) return false;
    const auto month = text.number(2);
    if (!month || *month < 1 || *month > 12 || !text.take('.')) return false;
    const auto week = text.number(1);
    if (!week || *week < 1 || *week > 5 || !text.take('.')) return false;
    const auto weekday = text.number(1);
    if (!weekday || *weekday > 6) return false;
    into = Change{*month, *week, *weekday, 7200};
    if (text.take('/')) {
      const auto time = text.duration(167);
      if (!time) return false;
      into.time = *time;
    }
    return true;
  };
  if (text.rest.empty()) {
    // A daylight name with no rule: the United States' rule, as glibc assumes.
    rule.daylight_starts_ = Change{3, 2, 0, 7200};
    rule.daylight_ends_ = Change{11, 1, 0, 7200};
    return rule;
  }
  if (!change(rule.daylight_starts_) || !change(rule.daylight_ends_) || !text.rest.empty()) return std::nullopt;
  return rule;
}

UnixSeconds PosixRule::change_instant(const Change& change, std::int64_t year, std::int32_t offset_before) const {
  const auto first = days_from_civil(year, change.month, 1);
  const auto next_month =
      change.month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, change.month + 1, 1);
  auto day = first + (static_cast<std::int64_t>(change.weekday) + 7 - weekday_from_days(first)) % 7 +
             7 * (static_cast<std::int64_t>(change.week) - 1);
  while (day >= next_month) day -= 7;  // week 5: the last such weekday
  return day * kDay + change.time - offset_before;
}

std::int32_t PosixRule::offset_at(UnixSeconds instant) const {
  if (!daylight_offset_) return standard_offset_;
  const auto year = civil_from_days(callgate::floor_div(instant + standard_offset_, kDay)).year;
  const auto starts = change_instant(daylight_starts_, year, standard_offset_);
  const auto ends = change_instant(daylight_ends_, year, *daylight_offset_);
  const bool daylight = starts < ends ? (instant >= starts && instant < ends)   // northern summer
                                      : (instant >= starts || instant < ends);  // southern summer spans new year
  return daylight ? *daylight_offset_ : standard_offset_;
}

std::optional<TimeZone> TimeZone::from_tzif(std::string_view bytes, std::string name) {
  constexpr std::size_t kHeader = 44;
  if (bytes.size() < kHeader || bytes.substr(0, 4) != "TZif") return std::nullopt;
  const char version = bytes[4];
  struct Counts {
    std::uint64_t is_ut, is_std, leap, time, type, chars;
  };
  auto counts_at = [&](std::size_t at) {
    return Counts{big_endian_u32(bytes, at + 20), big_endian_u32(bytes, at + 24), big_endian_u32(bytes, at + 28),
                  big_endian_u32(bytes, at + 32), big_endian_u32(bytes, at + 36), big_endian_u32(bytes, at + 40)};
  };
  auto block_size = [](const Counts& c, std::uint64_t time_bytes) {
    return c.time * time_bytes + c.time + c.type * 6 + c.chars + c.leap * (time_bytes + 4) + c.is_std + c.is_ut;
  };
  std::size_t at = 0;
  Counts counts = counts_at(0);
  std::uint64_t time_bytes = 4;
  if (version >= '2') {
    // Skip the 32-bit block: the 64-bit one after it says the same and more.
    const auto second = kHeader + block_size(counts, 4);
    if (second + kHeader > bytes.size() || bytes.substr(second, 4) != "TZif") return std::nullopt;
    at = second;
    counts = counts_at(at);
    time_bytes = 8;
  }
  const auto data = at + kHeader;
  if (counts.type == 0 || counts.type > 256 || counts.time > 100'000 ||
      data + block_size(counts, time_bytes) > bytes.size())
    return std::nullopt;

  TimeZone zone;
  zone.name_ = std::move(name);
  const auto types_at = data + counts.time * time_bytes + counts.time;
  std::vector<std::int32_t> offsets;
  for (std::uint64_t index = 0; index < counts.type; ++index)
    offsets.push_back(static_cast<std::int32_t>(big_endian_u32(bytes, types_at + index * 6)));
  zone.initial_offset_ = offsets[0];  // RFC 8536: type 0 holds before the first transition
  for (std::uint64_t index = 0; index < counts.time; ++index) {
    const auto when = time_bytes == 8 ? big_endian_i64(bytes, data + index * 8)
                                      : static_cast<std::int32_t>(big_endian_u32(bytes, data + index * 4));
    const auto type = static_cast<unsigned char>(bytes[data + counts.time * time_bytes + index]);
    if (type >= offsets.size()) return std::nullopt;
    if (!zone.transitions_.empty() && when <= zone.transitions_.back().first) return std::nullopt;
    zone.transitions_.emplace_back(when, offsets[type]);
  }
  if (version >= '2') {
    // The footer: "\n<POSIX TZ rule>\n", possibly empty.
    auto footer = bytes.substr(data + block_size(counts, 8));
    if (footer.size() >= 2 && footer.front() == '\n') {
      footer.remove_prefix(1);
      const auto end = footer.find('\n');
      if (end == std::string_view::npos) return std::nullopt;
      if (end > 0) {
        zone.rule_ = PosixRule::parse(footer.substr(0, end));
        if (!zone.rule_) return std::nullopt;
      }
    }
  }
  return zone;
}

TimeZone TimeZone::fixed(std::int32_t offset_seconds, std::string name) {
  TimeZone zone;
  zone.name_ = std::move(name);
  zone.initial_offset_ = offset_seconds;
  return zone;
}

std::int32_t TimeZone::offset_at(UnixSeconds instant) const {
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), instant,
                                      [](UnixSeconds when, const auto& transition) { return when < transition.first; });
  if (after == transitions_.begin()) return transitions_.empty() && rule_ ? rule_->offset_at(instant) : initial_offset_;
  if (after == transitions_.end() && rule_) return rule_->offset_at(instant);
  return std::prev(after)->second;
}

UnixSeconds TimeZone::to_utc(LocalSeconds local) const {
  // Offsets change at most a few times a year: the ones in force a day
  // either side are the only candidates.
  const auto before = offset_at(local - kDay);
  const auto after = offset_at(local + kDay);
  std::optional<UnixSeconds> found;
  for (const auto offset : {before, after}) {
    const auto instant = local - offset;
    if (offset_at(instant) == offset && (!found || instant < *found)) found = instant;
  }
  return found ? *found : local - before;
}

TimeZoneLoad load_time_zone(const std::string& name, const std::string& directory) {
  if (name == "UTC" || name == "Etc/UTC") return {TimeZone::fixed(0, name), ""};
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos)
    return {std::nullopt, "'" + name + "' is not a time zone name (like Asia/Kolkata)"};
  const auto path = directory + "/" + name;
  std::ifstream file(path, std::ios::binary);
  if (!file) return {std::nullopt, "no time zone '" + name + "' in " + directory + " (is tzdata installed?)"};
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto zone = TimeZone::from_tzif(bytes, name);
  if (!zone) return {std::nullopt, path + " is not a TZif file callgate can read"};
  return {std::move(zone), ""};
}

}  // namespace callgate::dialer
