#include "http/client/exchange.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate::http;
using boost::beast::http::verb;

namespace {

// Reads text back with Beast's own request parser: what a server makes of it.
boost::beast::http::request<boost::beast::http::string_body> parsed(const std::string& text) {
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.eager(true);
  boost::beast::error_code error;
  const auto used = parser.put(boost::asio::buffer(text), error);
  BOOST_TEST_REQUIRE(!error, error.message());
  BOOST_TEST_REQUIRE(parser.is_done());
  BOOST_TEST(used == text.size());  // nothing after the request: no second one smuggled in
  return parser.release();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exchange)

BOOST_AUTO_TEST_CASE(a_form_post_is_written_exactly) {
  const auto request =
      make_form_post("https://api.example.com/x", {{"To", "+1 415"}, {"Record", "false"}}, "AC1", "t0k");
  const auto text = wire_request(request, "/2010-04-01/Accounts/AC1/Calls.json", "api.example.com", "callgate/1");
  BOOST_TEST_REQUIRE(text.has_value());
  BOOST_TEST(*text ==
             "POST /2010-04-01/Accounts/AC1/Calls.json HTTP/1.1\r\n"
             "Host: api.example.com\r\n"
             "User-Agent: callgate/1\r\n"
             "Authorization: Basic QUMxOnQwaw==\r\n"
             "Accept: application/json\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: 24\r\n"
             "\r\n"
             "To=%2B1+415&Record=false");
  const auto message = parsed(*text);
  BOOST_TEST(message.body() == "To=%2B1+415&Record=false");
  BOOST_TEST(message[boost::beast::http::field::authorization] == "Basic QUMxOnQwaw==");
}

BOOST_AUTO_TEST_CASE(content_length_where_http_has_one) {
  // A GET without a body has none; a PUT or POST without one says 0; any body its size.
  ClientRequest get = make_get("http://h/", "u", "p");
  BOOST_TEST(wire_request(get, "/a?b=c", "h:8080", "ua")->find("Content-Length") == std::string::npos);
  get.body = "x";
  BOOST_TEST(wire_request(get, "/", "h", "ua")->ends_with("Content-Length: 1\r\n\r\nx"));
  for (const auto method : {verb::put, verb::post, verb::options}) {
    ClientRequest empty;
    empty.method = method;
    const auto text = wire_request(empty, "/", "h", "ua");
    BOOST_TEST(text->ends_with("Content-Length: 0\r\n\r\n"));
    BOOST_TEST(parsed(*text).body().empty());
  }
}

BOOST_AUTO_TEST_CASE(text_that_would_break_the_framing_is_refused) {
  const auto with_header = [](std::string name, std::string value) {
    ClientRequest request;
    request.headers.emplace_back(std::move(name), std::move(value));
    return request;
  };
  // A token from a metadata service or a config value with a line break in
  // it would otherwise end the headers and start a request of its own.
  for (const char* value : {"a\r\nGET /admin HTTP/1.1", "a\nb", "a\rb", "\x7f", "\x01"})
    BOOST_TEST(!wire_request(with_header("X-Token", value), "/", "h", "ua").has_value());
  BOOST_TEST(!wire_request(with_header("X-Token", std::string("a\0b", 3)), "/", "h", "ua").has_value());
  for (const char* name : {"", "Bad Name", "Bad:Name", "Bad\r\nName", "Ünï"})
    BOOST_TEST(!wire_request(with_header(name, "v"), "/", "h", "ua").has_value(), name);
  // The headers written here, or a Transfer-Encoding beside the Content-Length, in any case.
  for (const char* name : {"Host", "user-agent", "Content-Length", "TRANSFER-ENCODING"})
    BOOST_TEST(!wire_request(with_header(name, "1"), "/", "h", "ua").has_value(), name);
  BOOST_TEST(wire_request(with_header("X-Ok", "tab\there, caf\xc3\xa9"), "/", "h", "ua").has_value());
  ClientRequest plain;
  for (const char* target : {"", "/a b", "/a\r\nb", "/\x01"})
    BOOST_TEST(!wire_request(plain, target, "h", "ua").has_value(), target);
  BOOST_TEST(!wire_request(plain, "/", "h\r\nX-Evil: 1", "ua").has_value());
  BOOST_TEST(!wire_request(plain, "/", "h", "ua\n").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
