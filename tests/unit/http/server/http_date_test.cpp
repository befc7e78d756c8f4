#include "http/server/http_date.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::http;

BOOST_AUTO_TEST_SUITE(http_date)

BOOST_AUTO_TEST_CASE(formats_imf_fixdate) {
  BOOST_TEST(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's own example
  BOOST_TEST(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  BOOST_TEST(format_http_date(1798156800) == "Fri, 25 Dec 2026 00:00:00 GMT");
}

BOOST_AUTO_TEST_CASE(the_cache_gives_the_current_second) {
  HttpDateCache cache;
  const auto& text = cache.now();
  BOOST_TEST(text.size() == 29u);
  BOOST_TEST(text.ends_with(" GMT"));
}

BOOST_AUTO_TEST_SUITE_END()
