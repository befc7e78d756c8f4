#include "http/server/router.hpp"

#include "http/form/form_codec.hpp"

namespace callgate::http {
namespace {

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
  auto decoded = percent_decode(segment, false);
  if (decoded && decoded->find_first_of(std::string_view("/\0", 2)) != std::string::npos) return std::nullopt;
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
  literal_prefix_ = text_.substr(0, text_.find('{'));
}

bool PathPattern::match(std::string_view path, PathParameters& parameters) const {
  // Literal segments match byte for byte, separators included, so a pattern
  // without parameters matches exactly its own text.
  if (parameter_count_ == 0) return path == text_;
  if (!path.starts_with(literal_prefix_)) return false;
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
