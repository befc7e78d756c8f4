#include "core/listen_address.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(listen_address)

BOOST_AUTO_TEST_CASE(parses_ipv4_ipv6_and_localhost) {
  auto v4 = parse_listen_address("0.0.0.0:8080", nullptr);
  BOOST_REQUIRE(v4);
  BOOST_TEST(v4->host == "0.0.0.0");
  BOOST_TEST(v4->port == 8080);
  BOOST_TEST(!v4->is_ipv6);

  auto v6 = parse_listen_address("[::1]:443", nullptr);
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "::1");
  BOOST_TEST(v6->is_ipv6);
  BOOST_TEST(v6->to_string() == "[::1]:443");

  auto local = parse_listen_address("localhost:0", nullptr);
  BOOST_REQUIRE(local);
  BOOST_TEST(local->host == "127.0.0.1");
  BOOST_TEST(local->port == 0);
}

BOOST_AUTO_TEST_CASE(explains_what_is_wrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"8080", "host:port"},
      {"127.0.0.1:", "port"},
      {"127.0.0.1:65536", "port"},
      {"127.0.0.1:80x", "port"},
      {"::1:8080", "brackets"},
      {"[::1]8080", "[ipv6]:port"},
      {"example.com:80", "IP address"},
  };
  for (const auto& [text, hint] : cases) {
    std::string why;
    BOOST_TEST(!parse_listen_address(text, &why).has_value(), text);
    BOOST_TEST(why.find(hint) != std::string::npos, text << " -> " << why);
  }
}

BOOST_AUTO_TEST_SUITE_END()
