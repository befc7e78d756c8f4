#include "core/ascii.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(ascii)

BOOST_AUTO_TEST_CASE(case_is_folded_for_ascii_letters_only) {
  BOOST_TEST(equals_ignoring_case("Content-Type", "content-type"));
  BOOST_TEST(equals_ignoring_case("", ""));
  BOOST_TEST(!equals_ignoring_case("multipart/form-data", "multipart/form-dat"));
  BOOST_TEST(!equals_ignoring_case("a", "b"));
  BOOST_TEST(!equals_ignoring_case("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII, not folded
  BOOST_TEST(!equals_ignoring_case("[", "{"));                // 0x5B and 0x7B differ by 0x20 too
}

// Strings that differ only in case, each the very last bytes of its own
// allocation: AddressSanitizer (scripts/test --sanitize) catches a read past
// either end, as it caught Boost 1.81's beast::iequals in the fuzzer.
BOOST_AUTO_TEST_CASE(nothing_past_either_string_is_read) {
  const std::string upper = "MULTIPART/FORM-DATA";
  auto left = std::make_unique<char[]>(upper.size());
  auto right = std::make_unique<char[]>(upper.size());
  for (std::size_t index = 0; index < upper.size(); ++index) {
    left[index] = upper[index];
    right[index] = to_lower_ascii(upper[index]);
  }
  BOOST_TEST(equals_ignoring_case({left.get(), upper.size()}, {right.get(), upper.size()}));
}

BOOST_AUTO_TEST_SUITE_END()
