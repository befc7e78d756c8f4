#include "core/config_reader.hpp"

#include <boost/url/parse.hpp>

#include <cctype>

namespace callgate {

bool is_http_url(const std::string& text, bool allow_path) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url) return false;
  if (url->scheme() != "http" && url->scheme() != "https") return false;
  if (url->host().empty() || url->has_query() || url->has_fragment() || url->has_userinfo()) return false;
  return allow_path || url->path().empty() || url->path() == "/";
}

bool has_hex_tail(std::string_view text, std::string_view prefix, std::size_t hex_digits) {
  if (text.size() != prefix.size() + hex_digits || !text.starts_with(prefix)) return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

}  // namespace callgate
