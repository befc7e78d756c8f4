#include "core/listen_address.hpp"

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace callgate {

std::string ListenAddress::to_string() const {
  return (is_ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* why) {
  auto fail = [&](std::string message) -> std::optional<ListenAddress> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };

  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected [ipv6]:port");
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("an IPv6 address must be written in brackets, as [::1]:8080");
  }

  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return fail("port must be a number from 0 to 65535");

  ListenAddress result;
  result.port = static_cast<std::uint16_t>(port);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code parse_error;
  const auto address = boost::asio::ip::make_address(std::string(host), parse_error);
  if (parse_error) return fail("host must be an IP address (or localhost), got '" + std::string(host) + "'");
  result.is_ipv6 = address.is_v6();
  result.host = address.to_string();
  return result;
}

}  // namespace callgate
