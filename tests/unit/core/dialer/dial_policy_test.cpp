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
      {1, 0.999, std::nullopt, milliseconds(999)},         // ceiling 1 s
      {1, 0.0, std::nullopt, milliseconds(0)},             // full jitter reaches zero
      {2, 0.5, std::nullopt, milliseconds(1'000)},         // ceiling 2 s
      {3, 0.5, std::nullopt, milliseconds(2'000)},         // ceiling 4 s
      {4, 0.5, std::nullopt, milliseconds(4'000)},         // ceiling 8 s
      {5, 0.5, std::nullopt, milliseconds(5'000)},         // ceiling capped at 10 s
      {5, 0.1, milliseconds(2'000), milliseconds(2'000)},  // never sooner than Retry-After
      {2, 0.9, milliseconds(500), milliseconds(1'800)},    // a shorter Retry-After changes nothing
      {6, 0.5, std::nullopt, std::nullopt},                // six tries made: give up
      {0, 0.5, std::nullopt, std::nullopt},                // nothing failed: nothing to wait for
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
      {CallStatus::busy, "", 3, std::nullopt},            // the third call was the last
      {CallStatus::completed, "human", 1, std::nullopt},  // reached: done
      {CallStatus::completed, "", 1, std::nullopt},       // no detection: a completed call is reached
      {CallStatus::completed, "machine_end_beep", 1, milliseconds(600'000)},  // a machine: try again
      {CallStatus::completed, "fax", 2, milliseconds(3'600'000)},
      {CallStatus::canceled, "", 1, std::nullopt},
      {CallStatus::ringing, "", 1, std::nullopt},  // not final: nothing to decide
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

BOOST_AUTO_TEST_CASE(an_ambiguous_placement_is_dialed_again_only_once_the_list_proves_no_call) {
  using Next = CheckDecision::Next;
  const AmbiguousPolicy policy{Milliseconds(30'000), Milliseconds(600'000), 3};
  struct Row {
    bool answered;
    int lookups, failed;
    long since_ms, settles_ms;
    Next next;
    long after_ms;
  };
  const Row rows[] = {
      // Twilio (its list is complete at once): an answer without the call means none rang.
      {true, 1, 0, 30'000, 0, Next::dial_again, 0},
      // Exotel (lists only ended calls, settled after 4 h 3 min): look again, backing off, never past the settling
      // time.
      {true, 1, 0, 30'000, 14'580'000, Next::look_again, 30'000},
      {true, 2, 0, 60'000, 14'580'000, Next::look_again, 60'000},
      {true, 9, 0, 3'600'000, 14'580'000, Next::look_again, 600'000},  // capped
      {true, 9, 0, 14'560'000, 14'580'000, Next::look_again, 20'000},  // up to the settling time
      {true, 9, 0, 14'580'000, 14'580'000, Next::dial_again, 0},
      // Lookups that failed: look again, until too many in a row.
      {false, 1, 1, 30'000, 0, Next::look_again, 30'000},
      {false, 2, 2, 60'000, 0, Next::look_again, 60'000},
      {false, 3, 3, 120'000, 0, Next::give_up, 0},
      {false, 30, 2, 1'000'000'000, 0, Next::look_again, 600'000},  // a failure is never proof
  };
  for (const auto& row : rows) {
    const auto decision = decide_after_lookup(policy, row.answered, row.lookups, row.failed, Milliseconds(row.since_ms),
                                              Milliseconds(row.settles_ms));
    BOOST_TEST((decision.next == row.next), "lookups " << row.lookups << " since " << row.since_ms);
    if (row.next == Next::look_again) BOOST_TEST(decision.after.count() == row.after_ms, "lookups " << row.lookups);
  }
}

BOOST_AUTO_TEST_SUITE_END()
