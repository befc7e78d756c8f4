#include "core/voice/stream_token.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::voice;
using namespace std::chrono_literals;

namespace {
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
const std::string kNonce = "0123456789abcdef0123456789abcdef";

std::string token_for(std::string lead, std::string call, std::chrono::system_clock::time_point expires = kNow + 600s) {
  return issue_stream_token("key", StreamTokenFields{std::move(lead), std::move(call), expires, kNonce});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(stream_token)

BOOST_AUTO_TEST_CASE(a_token_is_valid_for_its_lead_and_call_until_it_expires) {
  const auto token = token_for("L1", "CA1");
  BOOST_TEST(token.starts_with("1800000600." + kNonce + "."));
  const auto check = check_stream_token("key", token, "L1", "CA1", kNow);
  BOOST_TEST(to_string(check.verdict) == "valid");
  BOOST_TEST(check.nonce == kNonce);
  BOOST_TEST(to_string(check_stream_token("key", token, "L1", "CA1", kNow + 600s).verdict) == "expired");
}

BOOST_AUTO_TEST_CASE(another_lead_call_or_key_is_refused) {
  const auto token = token_for("L1", "CA1");
  BOOST_TEST(to_string(check_stream_token("key", token, "L2", "CA1", kNow).verdict) == "wrong_call");
  BOOST_TEST(to_string(check_stream_token("key", token, "L1", "CA2", kNow).verdict) == "wrong_call");
  BOOST_TEST(to_string(check_stream_token("other", token, "L1", "CA1", kNow).verdict) == "wrong_call");
}

BOOST_AUTO_TEST_CASE(tampered_or_malformed_tokens_are_refused) {
  auto token = token_for("L1", "CA1");
  auto later = token;
  later.replace(0, 10, "1900000000");  // a longer life, same MAC
  BOOST_TEST(to_string(check_stream_token("key", later, "L1", "CA1", kNow).verdict) == "wrong_call");
  for (const std::string& bad :
       {std::string(), std::string("x"), std::string("1.2.3"), token.substr(0, token.size() - 1), token + "0",
        "abc." + kNonce + "." + token.substr(token.size() - 64), std::string(300, '1')})
    BOOST_TEST(to_string(check_stream_token("key", bad, "L1", "CA1", kNow).verdict) == "malformed", bad);
}

BOOST_AUTO_TEST_SUITE_END()
