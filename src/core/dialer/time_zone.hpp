// Time zones for calling hours: UTC offsets by instant, read from the
// system's compiled tz database (TZif files, RFC 8536) and the POSIX TZ rule
// at their end that covers the years after their last transition. GCC 12's
// standard library has no std::chrono::tzdb, hence this. Pure except
// load_time_zone, which reads one file (at start-up, from the config).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::dialer {

// Seconds since 1970-01-01T00:00:00Z, and local civil seconds counted the
// same way (local midnight of day N is N * 86400).
using UnixSeconds = std::int64_t;
using LocalSeconds = std::int64_t;

// A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0", "<+0530>-5:30"): a standard
// offset and optionally a daylight offset with the days it starts and ends.
class PosixRule {
 public:
  static std::optional<PosixRule> parse(std::string_view text);
  std::int32_t offset_at(UnixSeconds instant) const;  // seconds east of UTC

 private:
  struct Change {  // Mm.w.d/time: month, week 1-5 (5 = last), weekday, local seconds into the day
    unsigned month = 0, week = 0, weekday = 0;
    std::int32_t time = 7200;
  };
  UnixSeconds change_instant(const Change& change, std::int64_t year, std::int32_t offset_before) const;

  std::int32_t standard_offset_ = 0;
  std::optional<std::int32_t> daylight_offset_;
  Change daylight_starts_, daylight_ends_;
};

class TimeZone {
 public:
  // From a TZif file's bytes (version 1, 2 or 3); nothing if they do not parse.
  static std::optional<TimeZone> from_tzif(std::string_view bytes, std::string name);
  // A fixed offset, e.g. for "UTC".
  static TimeZone fixed(std::int32_t offset_seconds, std::string name);

  const std::string& name() const { return name_; }
  std::int32_t offset_at(UnixSeconds instant) const;  // seconds east of UTC
  LocalSeconds to_local(UnixSeconds instant) const { return instant + offset_at(instant); }
  // The instant a local time names. In a gap (clocks jumped forward) the
  // time is read with the offset before the jump, so it lands just as far
  // after the jump; when it names two instants (clocks went back), the first.
  UnixSeconds to_utc(LocalSeconds local) const;

 private:
  std::string name_;
  std::int32_t initial_offset_ = 0;
  std::vector<std::pair<UnixSeconds, std::int32_t>> transitions_;  // from this instant on, this offset
  std::optional<PosixRule> rule_;                                  // after the last transition
};

// Reads <directory>/<name> (e.g. "Asia/Kolkata"); a description of the
// problem if it cannot. Names with ".." or a leading "/" are refused.
struct TimeZoneLoad {
  std::optional<TimeZone> zone;
  std::string problem;
};
TimeZoneLoad load_time_zone(const std::string& name, const std::string& directory = "/usr/share/zoneinfo");

}  // namespace callgate::dialer
