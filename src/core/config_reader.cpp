#include "core/config_reader.hpp"

#include <boost/asio/ip/address.hpp>
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

namespace {
// "localhost", or a loopback address (an IPv6 one in brackets, as a URL has it).
bool is_loopback_host(std::string host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}
}  // namespace

bool is_loopback_http_url(const std::string& text) {
  if (!text.starts_with("http://") || !is_http_url(text, false)) return false;
  return is_loopback_host(boost::urls::parse_absolute_uri(text)->host());
}

bool is_event_endpoint_url(const std::string& text) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url || url->host().empty() || url->has_userinfo() || url->has_fragment()) return false;
  if (url->scheme() == "https") return true;
  return url->scheme() == "http" && is_loopback_host(url->host());
}

bool is_https_or_loopback_url(const std::string& text) {
  return (text.starts_with("https://") && is_http_url(text, false)) || is_loopback_http_url(text);
}

bool is_aws_region(std::string_view text) {
  // Lowercase words and digits joined by '-', ending in a number.
  if (text.size() < 4 || text.size() > 32 || text.front() == '-' || text.back() == '-') return false;
  if (!std::all_of(text.begin(), text.end(),
                   [](unsigned char c) { return std::islower(c) != 0 || std::isdigit(c) != 0 || c == '-'; }))
    return false;
  return std::isdigit(static_cast<unsigned char>(text.back())) != 0 && text.find("--") == std::string_view::npos;
}

bool is_dynamodb_table_name(std::string_view text) {
  return text.size() >= 3 && text.size() <= 255 && std::all_of(text.begin(), text.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.';
         });
}

bool has_hex_tail(std::string_view text, std::string_view prefix, std::size_t hex_digits) {
  if (text.size() != prefix.size() + hex_digits || !text.starts_with(prefix)) return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

}  // namespace callgate
