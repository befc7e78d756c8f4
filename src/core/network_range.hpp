// An address range in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or one
// address), for trusted proxies and webhook source allow-lists. Pure.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callgate {

class NetworkRange {
 public:
  // Nothing for text that is not an address with an optional /prefix in range.
  static std::optional<NetworkRange> parse(std::string_view text);

  // An IPv4-mapped IPv6 peer (::ffff:10.1.2.3, as a dual-stack socket
  // reports IPv4 clients) matches the IPv4 range it maps to.
  bool contains(const boost::asio::ip::address& address) const;
  std::string to_string() const;
  bool operator==(const NetworkRange&) const = default;

 private:
  boost::asio::ip::address network_;
  unsigned prefix_length_ = 0;
};

bool any_contains(const std::vector<NetworkRange>& ranges, const boost::asio::ip::address& address);

}  // namespace callgate
