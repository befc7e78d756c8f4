// The Date header's IMF-fixdate form (RFC 9110): "Sun, 06 Nov 1994 08:49:37 GMT".
#pragma once

#include <ctime>
#include <string>

namespace callgate::http {

std::string format_http_date(std::time_t seconds_since_epoch);

// Formats at most once per second; one per reactor, so no sharing.
class HttpDateCache {
 public:
  const std::string& now();

 private:
  std::time_t second_ = -1;
  std::string text_;
};

}  // namespace callgate::http
