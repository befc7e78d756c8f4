#include "core/network_range.hpp"

#include <algorithm>
#include <charconv>

namespace callgate {
namespace {

template <std::size_t Size>
bool prefix_matches(const std::array<unsigned char, Size>& network, const std::array<unsigned char, Size>& address,
                    unsigned prefix_length) {
  for (std::size_t index = 0; index < Size && prefix_length > 0; ++index) {
    const unsigned bits = std::min(prefix_length, 8u);
    const auto mask = static_cast<unsigned char>(0xFF << (8 - bits));
    if ((network[index] & mask) != (address[index] & mask)) return false;
    prefix_length -= bits;
  }
  return true;
}

boost::asio::ip::address unmapped(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  return address;
}

}  // namespace

std::optional<NetworkRange> NetworkRange::parse(std::string_view text) {
  const auto slash = text.find('/');
  boost::system::error_code error;
  const auto network = boost::asio::ip::make_address(std::string(text.substr(0, slash)), error);
  if (error) return std::nullopt;
  const unsigned maximum = network.is_v4() ? 32 : 128;
  unsigned length = maximum;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto [end, parse_error] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || parse_error != std::errc{} || end != digits.data() + digits.size() || length > maximum)
      return std::nullopt;
  }
  NetworkRange range;
  range.network_ = network;
  range.prefix_length_ = length;
  return range;
}

bool NetworkRange::contains(const boost::asio::ip::address& candidate) const {
  const auto address = unmapped(candidate);
  if (network_.is_v4() != address.is_v4()) return false;
  if (network_.is_v4()) return prefix_matches(network_.to_v4().to_bytes(), address.to_v4().to_bytes(), prefix_length_);
  return prefix_matches(network_.to_v6().to_bytes(), address.to_v6().to_bytes(), prefix_length_);
}

std::string NetworkRange::to_string() const { return network_.to_string() + "/" + std::to_string(prefix_length_); }

bool any_contains(const std::vector<NetworkRange>& ranges, const boost::asio::ip::address& address) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const NetworkRange& range) { return range.contains(address); });
}

}  // namespace callgate
