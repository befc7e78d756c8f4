#include "core/utf8.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(utf8)

BOOST_AUTO_TEST_CASE(well_formed_text_passes) {
  BOOST_TEST(is_valid_utf8(""));
  BOOST_TEST(is_valid_utf8("Asha Rao"));
  BOOST_TEST(is_valid_utf8("\xE0\xA4\x86\xE0\xA4\xB6\xE0\xA4\xBE"));  // Devanagari
  BOOST_TEST(is_valid_utf8("\xF0\x9F\x93\x9E"));                      // U+1F4DE
  BOOST_TEST(is_valid_utf8("\xF4\x8F\xBF\xBF"));                      // U+10FFFF, the last
}

BOOST_AUTO_TEST_CASE(every_kind_of_ill_formed_sequence_is_refused) {
  BOOST_TEST(!is_valid_utf8("\xFF"));              // never in UTF-8
  BOOST_TEST(!is_valid_utf8("name=\x80"));         // a continuation byte alone
  BOOST_TEST(!is_valid_utf8("\xC3"));              // cut short
  BOOST_TEST(!is_valid_utf8("\xC0\xAF"));          // overlong '/'
  BOOST_TEST(!is_valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  BOOST_TEST(!is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  BOOST_TEST(!is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  BOOST_TEST(!is_valid_utf8("\xE2\x82"));          // three-byte form cut short
}

BOOST_AUTO_TEST_CASE(repair_replaces_each_bad_byte_and_keeps_the_rest) {
  BOOST_TEST(to_valid_utf8("a\xFF"
                           "b") ==
             "a\xEF\xBF\xBD"
             "b");
  BOOST_TEST(to_valid_utf8("\xE0\xA4\x86") == "\xE0\xA4\x86");
  BOOST_TEST(is_valid_utf8(to_valid_utf8("\xC3\xC3\x28\xED\xA0\x80")));
}

BOOST_AUTO_TEST_SUITE_END()
