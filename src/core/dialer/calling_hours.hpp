// When a customer may be called: a daily window in a time zone (e.g.
// 09:00-21:00 Asia/Kolkata), the weekdays it opens on, and holidays on which
// it does not; a window per destination prefix. A dial due outside moves to
// the next opening: an enquiry at 23:00 is called at 09:00. Pure.
#pragma once

#include "core/civil_time.hpp"
#include "core/dialer/time_zone.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace callgate::dialer {

struct CallingWindow {
  TimeZone zone = TimeZone::fixed(0, "UTC");
  // By default all day, every day (the documented config default).
  std::int32_t opens = 0;   // local seconds into the day
  std::int32_t closes = 0;  // earlier than opens: the window runs past midnight; equal: all day
  std::array<bool, 7> days{true, true, true, true, true, true, true};  // Sunday first, by the day it opens
  std::vector<CivilDate> holidays;                                     // local dates on which it does not open
};

// The earliest instant at or after `at` inside the window; nothing if it
// never opens in the next 400 days (no weekday allowed, say).
std::optional<UnixSeconds> next_calling_time(const CallingWindow& window, UnixSeconds at);

struct CallingHours {
  CallingWindow default_window;
  std::vector<std::pair<std::string, CallingWindow>> by_prefix;  // E.164 prefix ("+91") to its window
  // The window for a number: the longest matching prefix, else the default.
  const CallingWindow& for_number(const std::string& e164) const;
};

// "09:00" as seconds into the day; nothing for anything else.
std::optional<std::int32_t> parse_time_of_day(std::string_view text);

}  // namespace callgate::dialer
