#include "http/server/http_date.hpp"

#include <chrono>

namespace callgate::http {

std::string format_http_date(std::time_t seconds_since_epoch) {
  // strftime's %a and %b follow the C locale's names only by accident of the
  // locale; the header needs the English names whatever the locale is.
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm parts{};
  gmtime_r(&seconds_since_epoch, &parts);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[parts.tm_wday], parts.tm_mday,
                months[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return text;
}

const std::string& HttpDateCache::now() {
  const std::time_t second = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (second != second_) {
    second_ = second;
    text_ = format_http_date(second);
  }
  return text_;
}

}  // namespace callgate::http
