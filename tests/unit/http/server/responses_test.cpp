#include "http/server/responses.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate::http;
namespace beast_http = boost::beast::http;

namespace {

// A request as the server's parser builds it from bytes on the wire.
Request parsed(std::string_view wire) {
  beast_http::request_parser<beast_http::string_body> parser;
  boost::system::error_code error;
  parser.put(boost::asio::buffer(wire.data(), wire.size()), error);
  BOOST_REQUIRE_MESSAGE(!error && parser.is_done(), "test request does not parse: " << error.message());
  return parser.release();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(responses)

BOOST_AUTO_TEST_CASE(header_value_finds_a_field_whatever_case_it_came_in) {
  const auto request = parsed(
      "POST /webhook/twilio HTTP/1.1\r\nhost: a\r\ncontent-TYPE: application/x-www-form-urlencoded\r\n"
      "x-twilio-SIGNATURE: sig=\r\nContent-Length: 0\r\n\r\n");
  BOOST_TEST(header_value(request, beast_http::field::content_type) == "application/x-www-form-urlencoded");
  BOOST_TEST(header_value(request, "Content-Type") == "application/x-www-form-urlencoded");
  BOOST_TEST(header_value(request, "X-Twilio-Signature") == "sig=");
  BOOST_TEST(header_value(request, "x-twilio-signature") == "sig=");
}

BOOST_AUTO_TEST_CASE(header_value_gives_the_first_of_repeated_fields_as_beast_does) {
  const auto request =
      parsed("GET / HTTP/1.1\r\nX-Request-Id: first\r\nAccept: a\r\nx-request-id: second\r\nAccept: b\r\n\r\n");
  BOOST_TEST(header_value(request, "X-Request-Id") == "first");
  BOOST_TEST(header_value(request, "X-Request-Id") == request["X-Request-Id"]);
  BOOST_TEST(header_value(request, beast_http::field::accept) == "a");
  BOOST_TEST(header_value(request, beast_http::field::accept) == request[beast_http::field::accept]);
}

BOOST_AUTO_TEST_CASE(header_value_is_empty_for_what_is_not_there) {
  const auto request = parsed("GET / HTTP/1.1\r\nX-Twilio-Signature: s\r\nX-Other: o\r\n\r\n");
  BOOST_TEST(header_value(request, beast_http::field::connection).empty());
  BOOST_TEST(header_value(request, "I-Twilio-Idempotency-Token").empty());
  BOOST_TEST(header_value(request, "X-Twilio-Signatur").empty());  // a prefix is not the name
  BOOST_TEST(header_value(request, "X-Twilio-Signature-").empty());
  // Every field Beast has no name for is stored as "unknown": asking for
  // that must not hand back whichever came first.
  BOOST_TEST(header_value(request, beast_http::field::unknown).empty());
}

BOOST_AUTO_TEST_SUITE_END()
