#include "providers/public_url.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;
using boost::asio::ip::make_address;

namespace {

http::Request request_for(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request request{boost::beast::http::verb::post, target, 11};
  request.set(boost::beast::http::field::host, "attacker.example");
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(public_url)

BOOST_AUTO_TEST_CASE(built_from_the_configured_base_never_the_host_header) {
  ServerConfig server;
  server.public_base_url = "https://gw.example.com";
  BOOST_TEST(providers::public_url_of(request_for("/webhook/twilio?leadId=1"), make_address("198.51.100.1"), server) ==
             "https://gw.example.com/webhook/twilio?leadId=1");
}

BOOST_AUTO_TEST_CASE(a_base_ending_in_a_lone_slash_does_not_double_it) {
  ServerConfig server;
  server.public_base_url = "https://gw.example.com/";
  BOOST_TEST(providers::public_url_of(request_for("/webhook"), make_address("198.51.100.1"), server) ==
             "https://gw.example.com/webhook");
  server.public_base_url = "http://127.0.0.1:8080/";
  BOOST_TEST(providers::public_url_of(request_for("/webhook"), make_address("198.51.100.1"), server) ==
             "http://127.0.0.1:8080/webhook");
}

BOOST_AUTO_TEST_CASE(a_base_with_a_path_prefix_keeps_it) {
  ServerConfig server;
  server.public_base_url = "https://example.com/callgate";
  BOOST_TEST(providers::public_url_of(request_for("/twiml?leadId=1"), make_address("198.51.100.1"), server) ==
             "https://example.com/callgate/twiml?leadId=1");
}

BOOST_AUTO_TEST_CASE(forwarded_headers_count_only_from_trusted_proxies) {
  ServerConfig server;
  server.public_base_url = "http://127.0.0.1:8080";
  server.trusted_proxies = {*NetworkRange::parse("10.0.0.0/8")};
  const auto request =
      request_for("/webhook", {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "gw.example.com"}});
  BOOST_TEST(providers::public_url_of(request, make_address("10.1.2.3"), server) == "https://gw.example.com/webhook");
  BOOST_TEST(providers::public_url_of(request, make_address("198.51.100.1"), server) ==
             "http://127.0.0.1:8080/webhook");
}

BOOST_AUTO_TEST_CASE(forwarded_values_that_could_reshape_the_url_are_ignored) {
  ServerConfig server;
  server.public_base_url = "https://gw.example.com";
  server.trusted_proxies = {*NetworkRange::parse("10.0.0.0/8")};
  const auto request =
      request_for("/webhook", {{"X-Forwarded-Proto", "javascript"}, {"X-Forwarded-Host", "a.example, b.example"}});
  BOOST_TEST(providers::public_url_of(request, make_address("10.1.2.3"), server) == "https://gw.example.com/webhook");
}

BOOST_AUTO_TEST_CASE(callback_urls_carry_the_lead_id_encoded) {
  BOOST_TEST(providers::callback_url("https://gw.example.com", "/webhook/twilio", "a b&c") ==
             "https://gw.example.com/webhook/twilio?leadId=a+b%26c");
}

BOOST_AUTO_TEST_SUITE_END()
