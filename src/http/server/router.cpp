#include "http/server/router.hpp"

namespace callgate::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls visit(segment) for each segment of a path that starts with '/'.
template <class Visit>
bool for_each_segment(std::string_view path, Visit visit) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    if (!visit(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

std::optional<std::string> decode_path_segment(std::string_view segment) {
  std::string decoded;
  decoded.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      decoded.push_back(segment[i]);
      continue;
    }
    if (i + 2 >= segment.size()) return std::nullopt;
    const int high = hex_value(segment[i + 1]);
    const int low = hex_value(segment[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const char c = static_cast<char>(high * 16 + low);
    if (c == '/' || c == '\0') return std::nullopt;
    decoded.push_back(c);
    i += 2;
  }
  return decoded;
}

PathPattern::PathPattern(std::string_view pattern) : text_(pattern) {
  const bool valid = for_each_segment(pattern, [&](std::string_view segment) {
    Segment parsed;
    if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
      parsed.is_parameter = true;
      parsed.text = segment.substr(1, segment.size() - 2);
      ++parameter_count_;
    } else {
      parsed.text = segment;
    }
    segments_.push_back(std::move(parsed));
    return true;
  });
  if (!valid) throw std::logic_error("route pattern must start with '/': " + std::string(pattern));
}

bool PathPattern::match(std::string_view path, PathParameters& parameters) const {
  std::size_t index = 0;
  const bool matched = for_each_segment(path, [&](std::string_view segment) {
    if (index >= segments_.size()) return false;
    const auto& expected = segments_[index++];
    if (!expected.is_parameter) return segment == expected.text;
    if (segment.empty()) return false;
    auto decoded = decode_path_segment(segment);
    if (!decoded) return false;
    parameters.add(expected.text, std::move(*decoded));
    return true;
  });
  return matched && index == segments_.size();
}

}  // namespace callgate::http
