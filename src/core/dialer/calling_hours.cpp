#include "core/dialer/calling_hours.hpp"

#include <algorithm>

namespace callgate::dialer {

namespace {

constexpr std::int64_t kDay = 86'400;

bool opens_on(const CallingWindow& window, std::int64_t day) {
  if (!window.days[weekday_from_days(day)]) return false;
  const auto date = civil_from_days(day);
  return std::find(window.holidays.begin(), window.holidays.end(), date) == window.holidays.end();
}

}  // namespace

std::optional<UnixSeconds> next_calling_time(const CallingWindow& window, UnixSeconds at) {
  const auto today = callgate::floor_div(window.zone.to_local(at), kDay);
  // From yesterday: a window past midnight that opened then may still be open.
  for (auto day = today - 1; day <= today + 400; ++day) {
    if (!opens_on(window, day)) continue;
    const LocalSeconds open = day * kDay + window.opens;
    const LocalSeconds close =
        window.closes > window.opens ? day * kDay + window.closes : (day + 1) * kDay + window.closes;
    const auto open_at = window.zone.to_utc(open);
    const auto close_at = window.zone.to_utc(close);
    if (at < close_at) return std::max(at, open_at);
  }
  return std::nullopt;
}

const CallingWindow& CallingHours::for_number(const std::string& e164) const {
  const CallingWindow* best = &default_window;
  std::size_t best_length = 0;
  for (const auto& [prefix, window] : by_prefix)
    if (e164.starts_with(prefix) && prefix.size() > best_length) {
      best = &window;
      best_length = prefix.size();
    }
  return *best;
}

std::optional<std::int32_t> parse_time_of_day(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const auto hours = parse_decimal<unsigned>(text.substr(0, 2));
  const auto minutes = parse_decimal<unsigned>(text.substr(3, 2));
  if (!hours || !minutes || *hours > 24 || *minutes > 59 || (*hours == 24 && *minutes != 0)) return std::nullopt;
  return static_cast<std::int32_t>(*hours * 3600 + *minutes * 60);
}

}  // namespace callgate::dialer
