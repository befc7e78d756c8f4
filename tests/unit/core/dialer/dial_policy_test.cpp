// Retry after a failed placement and redial after an unanswered call, as
// tables with the randomness fixed.
#include "core/dialer/dial_policy.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::dialer;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(dial_policy)

BOOST_AUTO_TEST_CASE(retries_back_off_with_full_jitter_under_a_cap) {
  const RetryPolicy policy{milliseconds(1'000), milliseconds(10'000), 6};
  struct Case {
    int failures;
    double random;
    std::optional<milliseconds> retry_after;
    std::optional<milliseconds> expected;
  };
  const Case cases[] = {
      {1, 0.999, std::nullopt, milliseconds(999)},     // ceiling 1 s
      {1, 0.0, std::nullopt, milliseconds(0)},         // full jitter reaches zero
      {2, 0.5, std::nullopt, milliseconds(1'000)},     // ceiling 2 s
      {3, 0.5, std::nullopt, milliseconds(2'000)},     // ceiling 4 s
      {4, 0.5, std::nullopt, milliseconds(4'000)},     // ceiling 8 s
      {5, 0.5, std::nullopt, milliseconds(5'000)},     // ceiling capped at 10 s
      {5, 0.1, milliseconds(2'000), milliseconds(2'000)},  // never sooner than Retry-After
      {2, 0.9, milliseconds(500), milliseconds(1'800)},    // a shorter Retry-After changes nothing
      {6, 0.5, std::nullopt, std::nullopt},            // six tries made: give up
      {0, 0.5, std::nullopt, std::nullopt},            // nothing failed: nothing to wait for
  };
  for (const auto& test : cases)
    BOOST_TEST((retry_delay(policy, test.failures, test.retry_after, test.random) == test.expected),
               "failures " << test.failures << " random " << test.random);
  // Many doublings do not overflow past the cap.
  const RetryPolicy many{milliseconds(1'000), milliseconds(60'000), 1'000};
  BOOST_TEST(retry_delay(many, 999, std::nullopt, 0.999999)->count() <= 60'000);
}

BOOST_AUTO_TEST_CASE(unanswered_calls_are_redialed_answered_ones_are_not) {
  const RedialPolicy policy{{milliseconds(600'000), milliseconds(3'600'000)}, 3, true};
  struct Case {
    CallStatus status;
    const char* answered_by;
    int calls_made;
    std::optional<milliseconds> expected;
  };
  const Case cases[] = {
      {CallStatus::busy, "", 1, milliseconds(600'000)},
      {CallStatus::no_answer, "", 1, milliseconds(600'000)},
      {CallStatus::failed, "", 2, milliseconds(3'600'000)},
      {CallStatus::busy, "", 3, std::nullopt},                               // the third call was the last
      {CallStatus::completed, "human", 1, std::nullopt},                     // reached: done
      {CallStatus::completed, "", 1, std::nullopt},                          // no detection: a completed call is reached
      {CallStatus::completed, "machine_end_beep", 1, milliseconds(600'000)},  // a machine: try again
      {CallStatus::completed, "fax", 2, milliseconds(3'600'000)},
      {CallStatus::canceled, "", 1, std::nullopt},
      {CallStatus::ringing, "", 1, std::nullopt},                            // not final: nothing to decide
  };
  for (const auto& test : cases)
    BOOST_TEST((decide_redial(policy, test.status, test.answered_by, test.calls_made).redial_after == test.expected),
               to_string(test.status) << " by '" << test.answered_by << "' after " << test.calls_made);
  // The last delay repeats when max_calls outnumbers them.
  const RedialPolicy long_policy{{milliseconds(1'000)}, 10, false};
  BOOST_TEST(decide_redial(long_policy, CallStatus::busy, "", 7).redial_after.value() == milliseconds(1'000));
  BOOST_TEST(!decide_redial(long_policy, CallStatus::completed, "machine_start", 1).redial_after.has_value());
  BOOST_TEST(decide_redial(policy, CallStatus::busy, "", 3).reason.find("3 calls") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
