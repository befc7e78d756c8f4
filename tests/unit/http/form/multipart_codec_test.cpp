#include "http/form/multipart_codec.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::http;

BOOST_AUTO_TEST_SUITE(multipart_codec)

BOOST_AUTO_TEST_CASE(the_boundary_is_read_from_the_content_type) {
  BOOST_TEST(multipart_boundary("multipart/form-data; boundary=----abc123").value_or("") == "----abc123");
  BOOST_TEST(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"quoted b\"").value_or("") ==
             "quoted b");
  BOOST_TEST(!multipart_boundary("multipart/form-data").has_value());
  BOOST_TEST(!multipart_boundary("application/json; boundary=x").has_value());
  BOOST_TEST(!multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')).has_value());
}

BOOST_AUTO_TEST_CASE(text_parts_come_back_by_name_in_order) {
  const std::string body =
      "preamble to ignore\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"CallSid\"\r\n\r\n"
      "b6cfaf2ba6f8e7ef\r\n"
      "--XyZ\r\n"
      "content-disposition: form-data; name=\"Legs[0][Status]\"\r\n"
      "Content-Type: text/plain\r\n\r\n"
      "completed\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"Empty\"\r\n\r\n"
      "\r\n"
      "--XyZ--\r\n";
  const auto fields = parse_multipart_form(body, "XyZ");
  BOOST_TEST_REQUIRE(fields.has_value());
  BOOST_TEST_REQUIRE(fields->size() == 3u);
  BOOST_TEST((*fields)[0].first == "CallSid");
  BOOST_TEST((*fields)[0].second == "b6cfaf2ba6f8e7ef");
  BOOST_TEST((*fields)[1].first == "Legs[0][Status]");
  BOOST_TEST((*fields)[1].second == "completed");
  BOOST_TEST((*fields)[2].second == "");
}

BOOST_AUTO_TEST_CASE(broken_bodies_are_refused) {
  const std::string no_close = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  BOOST_TEST(!parse_multipart_form(no_close, "B").has_value());
  const std::string no_name = "--B\r\nContent-Disposition: form-data\r\n\r\n1\r\n--B--";
  BOOST_TEST(!parse_multipart_form(no_name, "B").has_value());
  BOOST_TEST(!parse_multipart_form("no delimiter at all", "B").has_value());
  const std::string no_header_end = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n1\r\n--B--";
  BOOST_TEST(!parse_multipart_form(no_header_end, "B").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
