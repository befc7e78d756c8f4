#include "core/crypto.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(crypto)

BOOST_AUTO_TEST_CASE(hmac_sha256_matches_rfc_4231_case_2) {
  BOOST_TEST(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(hmac_sha1_matches_rfc_2202_case_2) {
  BOOST_TEST(hex_encode(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
             "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

BOOST_AUTO_TEST_CASE(keys_longer_than_a_block_are_hashed_first) {
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  BOOST_TEST(hex_encode(hmac_sha256(std::string(131, '\xaa'), data)) ==
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");  // RFC 4231 case 6
  BOOST_TEST(hex_encode(hmac_sha1(std::string(80, '\xaa'), data)) ==
             "aa4ae5e15272d00e95705637ce8a3b55ed402112");  // RFC 2202 case 6
}

BOOST_AUTO_TEST_CASE(a_changed_key_is_not_served_from_the_previous_one) {
  // The keyed state is kept between calls: switching keys back and forth
  // must give each key's own answer, an empty key included.
  for (int round = 0; round < 3; ++round) {
    BOOST_TEST(hex_encode(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
               "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    BOOST_TEST(hex_encode(hmac_sha1(std::string(20, '\x0b'), "Hi There")) ==
               "b617318655057264e28bc0b6fb378c8ef146be00");  // RFC 2202 case 1
    BOOST_TEST(hex_encode(hmac_sha1("", "")) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
  }
}

BOOST_AUTO_TEST_CASE(the_digest_as_a_value_and_its_base64_match_the_string_forms) {
  const auto digest = hmac_sha1_digest("Jefe", "what do ya want for nothing?");
  const std::string as_text(reinterpret_cast<const char*>(digest.data()), digest.size());
  BOOST_TEST(hex_encode(as_text) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");  // RFC 2202 case 2
  const auto encoded = base64_encode(digest);
  BOOST_TEST(std::string(encoded.data(), encoded.size()) == base64_encode(as_text));
  BOOST_TEST(std::string(encoded.data(), encoded.size()) == "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

BOOST_AUTO_TEST_CASE(base64_round_trips_every_padding_length) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    const auto encoded = base64_encode(text);
    const auto decoded = base64_decode(encoded);
    BOOST_TEST_REQUIRE(decoded.has_value(), encoded);
    BOOST_TEST(*decoded == text);
  }
  BOOST_TEST(base64_encode("foobar") == "Zm9vYmFy");
  BOOST_TEST(base64_encode("fo") == "Zm8=");
}

BOOST_AUTO_TEST_CASE(base64_decode_refuses_what_is_not_base64) {
  BOOST_TEST(!base64_decode("Zm9").has_value());       // length
  BOOST_TEST(!base64_decode("Zm9v!mFy").has_value());  // alphabet
  BOOST_TEST(!base64_decode("Z=9v").has_value());      // padding in the middle
  BOOST_TEST(!base64_decode("Zm9v\nYmFy").has_value());
}

BOOST_AUTO_TEST_CASE(constant_time_comparison_is_still_a_comparison) {
  BOOST_TEST(equal_in_constant_time("secret", "secret"));
  BOOST_TEST(!equal_in_constant_time("secret", "secreT"));
  BOOST_TEST(!equal_in_constant_time("secret", "secret2"));
  BOOST_TEST(equal_in_constant_time("", ""));
}

BOOST_AUTO_TEST_SUITE_END()
