#include "core/events/standard_webhooks.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::events;

BOOST_AUTO_TEST_SUITE(standard_webhooks)

// The specification's own example (its libraries' tests use it): the
// reference npm package gives the same signature (tests/events checks every
// delivery with it too).
BOOST_AUTO_TEST_CASE(signs_the_specification_example) {
  const auto key = webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(key->size() == 24u);
  BOOST_TEST(standard_webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
             "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

BOOST_AUTO_TEST_CASE(every_part_is_signed) {
  const auto key = *webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  const auto base = standard_webhook_signature(key, "msg_1", 100, "{}");
  BOOST_TEST(standard_webhook_signature(key, "msg_2", 100, "{}") != base);
  BOOST_TEST(standard_webhook_signature(key, "msg_1", 101, "{}") != base);
  BOOST_TEST(standard_webhook_signature(key, "msg_1", 100, "{ }") != base);
  const auto other = *webhook_secret_key("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  BOOST_TEST(standard_webhook_signature(other, "msg_1", 100, "{}") != base);
}

BOOST_AUTO_TEST_CASE(refuses_secrets_that_are_not_whsec_base64_of_enough_bytes) {
  BOOST_TEST(!webhook_secret_key(""));
  BOOST_TEST(!webhook_secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));          // no prefix
  BOOST_TEST(!webhook_secret_key("whsec_"));                                    // nothing after it
  BOOST_TEST(!webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZI"));            // 16 bytes: too short
  BOOST_TEST(!webhook_secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!"));    // not base64
  BOOST_TEST(!webhook_secret_key("whsec_" + std::string(88, 'A')));             // 66 bytes: too long
  BOOST_TEST(webhook_secret_key("whsec_" + std::string(84, 'A')).has_value());  // 63 bytes
}

BOOST_AUTO_TEST_SUITE_END()
