#include "core/network_range.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using boost::asio::ip::make_address;

BOOST_AUTO_TEST_SUITE(network_range)

BOOST_AUTO_TEST_CASE(ipv4_ranges_match_by_prefix) {
  const auto range = NetworkRange::parse("10.20.0.0/16");
  BOOST_TEST_REQUIRE(range.has_value());
  BOOST_TEST(range->contains(make_address("10.20.0.1")));
  BOOST_TEST(range->contains(make_address("10.20.255.255")));
  BOOST_TEST(!range->contains(make_address("10.21.0.1")));
  BOOST_TEST(!range->contains(make_address("::1")));
  BOOST_TEST(range->to_string() == "10.20.0.0/16");
}

BOOST_AUTO_TEST_CASE(prefixes_that_are_not_byte_aligned) {
  const auto range = NetworkRange::parse("192.168.1.64/27");
  BOOST_TEST_REQUIRE(range.has_value());
  BOOST_TEST(range->contains(make_address("192.168.1.64")));
  BOOST_TEST(range->contains(make_address("192.168.1.95")));
  BOOST_TEST(!range->contains(make_address("192.168.1.96")));
  BOOST_TEST(!range->contains(make_address("192.168.1.63")));
}

BOOST_AUTO_TEST_CASE(a_bare_address_is_that_address_alone) {
  const auto range = NetworkRange::parse("203.0.113.7");
  BOOST_TEST_REQUIRE(range.has_value());
  BOOST_TEST(range->contains(make_address("203.0.113.7")));
  BOOST_TEST(!range->contains(make_address("203.0.113.8")));
}

BOOST_AUTO_TEST_CASE(ipv6_ranges_and_mapped_ipv4_peers) {
  const auto range = NetworkRange::parse("2001:db8::/32");
  BOOST_TEST_REQUIRE(range.has_value());
  BOOST_TEST(range->contains(make_address("2001:db8:1::5")));
  BOOST_TEST(!range->contains(make_address("2001:db9::5")));
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
  const auto v4 = NetworkRange::parse("127.0.0.0/8");
  BOOST_TEST(v4->contains(make_address("::ffff:127.0.0.1")));
  const auto everything = NetworkRange::parse("0.0.0.0/0");
  BOOST_TEST(everything->contains(make_address("8.8.8.8")));
}

BOOST_AUTO_TEST_CASE(malformed_ranges_are_refused) {
  for (const char* text :
       {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "::1/129", "host.example.com", "10.0.0.0/8x", "10.0.0.0/-1"})
    BOOST_TEST(!NetworkRange::parse(text).has_value(), text);
}

BOOST_AUTO_TEST_SUITE_END()
