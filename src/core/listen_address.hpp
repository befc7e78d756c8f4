// The "host:port" form of server.listen, IPv4 or bracketed IPv6.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callgate {

struct ListenAddress {
  std::string host;        // an IP literal, without brackets
  std::uint16_t port = 0;  // 0 asks the kernel for a free port
  bool is_ipv6 = false;

  std::string to_string() const;  // brackets an IPv6 host again
};

// Accepts "127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", "[::]:443" and
// "localhost:8080" (taken as 127.0.0.1: resolving names here would make the
// daemon's bind address depend on /etc/hosts and DNS at start-up).
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string* why);

}  // namespace callgate
