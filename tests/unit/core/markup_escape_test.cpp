#include "core/markup_escape.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(markup_escape)

BOOST_AUTO_TEST_CASE(escaping_covers_the_five_and_drops_forbidden_bytes) {
  BOOST_TEST(escape_markup("<a href=\"x\">Tom's & co</a>") ==
             "&lt;a href=&quot;x&quot;&gt;Tom&apos;s &amp; co&lt;/a&gt;");
  BOOST_TEST(escape_markup(std::string("a\x01"
                                       "b\tc\x1f",
                                       6)) == "ab\tc");
  BOOST_TEST(escape_markup("नमस्ते") == "नमस्ते");
}

BOOST_AUTO_TEST_SUITE_END()
