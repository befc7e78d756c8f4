#include "dialer/decisions.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::dialer;
using namespace std::chrono_literals;
namespace providers = callgate::providers;

namespace {

// 2026-03-02 10:00:00 UTC, a Monday.
const WallTime kNow = WallTime(std::chrono::seconds(1'772'445'600));
const std::string kPhone = "+919876543210";

// A time as seconds from kNow: what the tables compare, and what a failure prints.
long long at(WallTime time) { return std::chrono::duration_cast<std::chrono::seconds>(time - kNow).count(); }

// Calling hours 09:00-18:00 UTC on weekdays: kNow is inside; +9 h is outside.
DialerConfig office_hours() {
  DialerConfig config;
  config.calling_hours.default_window.opens = 9 * 3600;
  config.calling_hours.default_window.closes = 18 * 3600;
  config.calling_hours.default_window.days = {false, true, true, true, true, true, false};
  return config;
}

DialerConfig never_open() {
  DialerConfig config;
  config.calling_hours.default_window.days = {false, false, false, false, false, false, false};
  return config;
}

Lead lead_with_attempts(int attempts, std::string last_sid = "CA1", std::optional<CallStatus> last_status = {}) {
  Lead lead;
  lead.id = "01LEAD";
  lead.phone = kPhone;
  for (int index = 0; index < attempts; ++index) {
    Attempt attempt;
    attempt.provider = "twilio";
    attempt.call_sid = index + 1 == attempts ? last_sid : "CA-earlier-" + std::to_string(index);
    attempt.status = index + 1 == attempts ? last_status : std::optional<CallStatus>(CallStatus::completed);
    lead.attempts.push_back(attempt);
  }
  return lead;
}

ClaimedJob claimed(DialJob job, bool reclaimed = false) { return ClaimedJob{std::move(job), 7, kNow + 60s, reclaimed}; }

DialJob placement(int call = 1, int failures = 0) {
  auto job = dial_job("01LEAD", call, kNow - 2s, "enquiry");
  job.failures = failures;
  return job;
}

DialJob ambiguity_check(int call, std::string provider, int lookups = 0, int failed_lookups = 0) {
  auto job = check_job(placement(call), std::move(provider), kNow - 40s, kNow - 40s, DialerConfig{});
  job.check->lookups = lookups;
  job.check->failed_lookups = failed_lookups;
  return job;
}

const Finish& finish_of(const ClaimedJobDecision& decision) {
  BOOST_REQUIRE(std::holds_alternative<Finish>(decision));
  return std::get<Finish>(decision);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dialer_decisions)

BOOST_AUTO_TEST_CASE(a_claimed_job_is_placed_finished_or_settled_by_what_the_lead_and_clock_say) {
  const store::StoreResult<Lead> gone = store::StoreError{store::StoreFailure::not_found, "no such lead"};
  const store::StoreResult<Lead> away = store::StoreError{store::StoreFailure::unavailable, "journal write failed"};
  struct Case {
    const char* name;
    ClaimedJob job;
    store::StoreResult<Lead> lead;
    DialerConfig config;
    std::optional<Why> why;  // none: Place (or Settle, below)
    bool settle = false;
    std::optional<LeadStatus> recorded;  // the attempt recorded, with the lead's status
    std::optional<WallTime> next_due;    // the next job, when due
  };
  const std::vector<Case> cases = {
      {"lead gone: the job goes", claimed(placement()), gone, {}, Why::lead_gone, false, {}, {}},
      {"store away: again in 5 s", claimed(placement()), away, {}, Why::store_unavailable, false, {}, kNow + 5s},
      {"call already on the lead",
       claimed(placement(1)),
       lead_with_attempts(1),
       {},
       Why::already_placed,
       false,
       {},
       {}},
      {"a later call is on the lead",
       claimed(placement(1)),
       lead_with_attempts(2),
       {},
       Why::already_placed,
       false,
       {},
       {}},
      {"second call, one made: placed", claimed(placement(2)), lead_with_attempts(1), {}, {}, false, {}, {}},
      {"reclaimed: ambiguous, then checked after grace",
       claimed(placement(), true),
       lead_with_attempts(0),
       {},
       Why::worker_stopped,
       false,
       LeadStatus::dialing,
       kNow + DialerConfig{}.ambiguous.grace},
      {"reclaimed but already placed: never twice",
       claimed(placement(1), true),
       lead_with_attempts(1),
       {},
       Why::already_placed,
       false,
       {},
       {}},
      {"calling hours never open",
       claimed(placement()),
       lead_with_attempts(0),
       never_open(),
       Why::never_callable,
       false,
       LeadStatus::failed,
       {}},
      {"inside calling hours", claimed(placement()), lead_with_attempts(0), office_hours(), {}, false, {}, {}},
      {"a check job settles", claimed(ambiguity_check(1, "twilio")), lead_with_attempts(1, ""), {}, {}, true, {}, {}},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto decision = decide_claimed_job(test.job, test.lead, kNow, test.config);
      if (test.settle) {
        BOOST_TEST(std::holds_alternative<Settle>(decision));
        continue;
      }
      if (!test.why) {
        BOOST_REQUIRE(std::holds_alternative<Place>(decision));
        BOOST_TEST(std::get<Place>(decision).job.call == test.job.job.call);
        continue;
      }
      const auto& finish = finish_of(decision);
      BOOST_TEST(to_string(finish.why) == to_string(*test.why));
      BOOST_TEST(finish.record.has_value() == test.recorded.has_value());
      if (finish.record && test.recorded) BOOST_TEST(to_string(finish.record->status) == to_string(*test.recorded));
      BOOST_TEST(finish.next.has_value() == test.next_due.has_value());
      if (finish.next && test.next_due) BOOST_TEST(at(finish.next->due) == at(*test.next_due));
      BOOST_TEST(!finish.give_back_call);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_reclaimed_job_becomes_a_check_of_the_same_call_with_an_unknown_placer) {
  const auto decision = decide_claimed_job(claimed(placement(1, 2), true), lead_with_attempts(0), kNow, DialerConfig{});
  const auto& finish = finish_of(decision);
  BOOST_REQUIRE(finish.next && finish.next->check);
  BOOST_TEST(finish.next->call == 1);
  BOOST_TEST(finish.next->failures == 2);  // a call found missing is retried within the same tries
  BOOST_TEST(finish.next->check->provider.empty());
  BOOST_TEST(at(finish.next->check->since) == at(kNow - 2s));
  BOOST_TEST(finish.record->attempt.error == "ambiguous: the dialer stopped while placing this call");
  BOOST_TEST(finish.record->attempt.call_sid.empty());
}

BOOST_AUTO_TEST_CASE(outside_calling_hours_the_job_moves_to_the_opening_and_loses_its_pacing_slot) {
  auto job = placement();
  job.slot_reserved = true;
  const auto evening = kNow + 9h;  // 19:00 Monday: opens 09:00 Tuesday
  const auto decision = decide_claimed_job(claimed(job), lead_with_attempts(0), evening, office_hours());
  const auto& finish = finish_of(decision);
  BOOST_TEST(to_string(finish.why) == "held_for_calling_hours");
  BOOST_REQUIRE(finish.next);
  BOOST_TEST(at(finish.next->due) == at(kNow + 23h));
  BOOST_TEST(!finish.next->slot_reserved);
  // In the slot it was reserved, inside the hours: placed without another.
  const auto placed = decide_claimed_job(claimed(job), lead_with_attempts(0), kNow, office_hours());
  BOOST_REQUIRE(std::holds_alternative<Place>(placed));
  BOOST_TEST(std::get<Place>(placed).has_slot);
  BOOST_TEST(!std::get<Place>(placed).job.slot_reserved);
}

BOOST_AUTO_TEST_CASE(a_first_call_is_claimed_now_when_callable_now_and_held_otherwise) {
  Lead lead = lead_with_attempts(0);
  struct Case {
    const char* name;
    WallTime now;
    DialerConfig config;
    bool claim_now;
    WallTime due;
  };
  const std::vector<Case> cases = {
      {"all day (the default)", kNow, {}, true, kNow},
      {"inside office hours", kNow, office_hours(), true, kNow},
      {"evening: held for the morning", kNow + 9h, office_hours(), false, kNow + 23h},
      {"never callable: claimed, and the worker records why", kNow, never_open(), true, kNow},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto first = decide_first_call(lead, test.now, test.config);
      BOOST_TEST(first.claim_now == test.claim_now);
      BOOST_TEST(first.job.call == 1);
      BOOST_TEST(at(first.job.due) == at(test.due));
    }
  }
}

BOOST_AUTO_TEST_CASE(only_the_latest_call_s_end_decides_a_redial) {
  DialerConfig config;  // redials after 10 min, then 1 h; three calls in all
  struct Case {
    const char* name;
    Lead lead;
    std::string ended_sid;
    CallEndedDecision::Next next;
    int redial_call;
    WallTime due;
  };
  const std::vector<Case> cases = {
      {"no attempts", lead_with_attempts(0), "CA1", CallEndedDecision::Next::nothing, 0, {}},
      {"an earlier call's late callback",
       lead_with_attempts(2, "CA2", CallStatus::busy),
       "CA-earlier-0",
       CallEndedDecision::Next::nothing,
       0,
       {}},
      {"the latest call not ended",
       lead_with_attempts(1, "CA1", CallStatus::ringing),
       "CA1",
       CallEndedDecision::Next::nothing,
       0,
       {}},
      {"busy on call 1: redial in 10 min", lead_with_attempts(1, "CA1", CallStatus::busy), "CA1",
       CallEndedDecision::Next::redial, 2, kNow + 10min},
      {"no answer on call 2: redial in 1 h", lead_with_attempts(2, "CA2", CallStatus::no_answer), "CA2",
       CallEndedDecision::Next::redial, 3, kNow + 1h},
      {"no answer on call 3: done",
       lead_with_attempts(3, "CA3", CallStatus::no_answer),
       "CA3",
       CallEndedDecision::Next::lead_done,
       0,
       {}},
      {"answered: done",
       lead_with_attempts(1, "CA1", CallStatus::completed),
       "CA1",
       CallEndedDecision::Next::lead_done,
       0,
       {}},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto decision = decide_after_call_ended(test.lead, test.ended_sid, kNow, config);
      BOOST_TEST(static_cast<int>(decision.next) == static_cast<int>(test.next));
      BOOST_TEST(decision.redial.has_value() == (test.next == CallEndedDecision::Next::redial));
      if (decision.redial) {
        BOOST_TEST(decision.redial->call == test.redial_call);
        BOOST_TEST(at(decision.redial->due) == at(test.due));
        BOOST_TEST(decision.redial->reason.rfind("redial: ", 0) == 0);
      }
    }
  }
  // A redial due in the evening waits for the morning.
  const auto evening =
      decide_after_call_ended(lead_with_attempts(1, "CA1", CallStatus::busy), "CA1", kNow + 8h + 55min, office_hours());
  BOOST_REQUIRE(evening.redial);
  BOOST_TEST(at(evening.redial->due) == at(kNow + 23h));
}

BOOST_AUTO_TEST_CASE(an_answered_call_that_met_no_voice_agent_is_redialled_like_an_unanswered_one) {
  DialerConfig config;  // redials after 10 min, then 1 h; three calls in all
  auto lead = lead_with_attempts(1, "CA1", CallStatus::completed);
  MediaStream stream;
  stream.claim = "n1";
  stream.call_sid = "CA1";
  stream.outcome = "agent_unavailable";
  lead.media_streams.push_back(stream);
  const auto decision = decide_after_call_ended(lead, "CA1", kNow, config);
  BOOST_REQUIRE(decision.redial);
  BOOST_TEST(decision.redial->call == 2);
  BOOST_TEST(at(decision.redial->due) == at(kNow + 10min));
  BOOST_TEST(decision.reason.rfind("the voice agent was unavailable", 0) == 0);
  // The agent was there (it hung up, or the caller did): the lead is done.
  lead.media_streams.back().outcome = "hangup";
  BOOST_TEST(static_cast<int>(decide_after_call_ended(lead, "CA1", kNow, config).next) ==
             static_cast<int>(CallEndedDecision::Next::lead_done));
  // Another call's stream does not count for this one.
  lead.media_streams.back().outcome = "agent_unavailable";
  lead.media_streams.back().call_sid = "CA-other";
  BOOST_TEST(static_cast<int>(decide_after_call_ended(lead, "CA1", kNow, config).next) ==
             static_cast<int>(CallEndedDecision::Next::lead_done));
  // Out of calls: done even so.
  auto last = lead_with_attempts(3, "CA3", CallStatus::completed);
  stream.call_sid = "CA3";
  last.media_streams.push_back(stream);
  BOOST_TEST(static_cast<int>(decide_after_call_ended(last, "CA3", kNow, config).next) ==
             static_cast<int>(CallEndedDecision::Next::lead_done));
}

BOOST_AUTO_TEST_CASE(a_lead_s_calls_are_over_when_its_latest_call_ended_and_no_redial_follows) {
  DialerConfig config;  // three calls in all
  BOOST_TEST(!calls_are_over(lead_with_attempts(0), kNow, config));
  BOOST_TEST(!calls_are_over(lead_with_attempts(1, "CA1", CallStatus::ringing), kNow, config));
  BOOST_TEST(!calls_are_over(lead_with_attempts(1, "CA1", CallStatus::busy), kNow, config));  // a redial follows
  BOOST_TEST(calls_are_over(lead_with_attempts(3, "CA3", CallStatus::no_answer), kNow, config));
  BOOST_TEST(calls_are_over(lead_with_attempts(1, "CA1", CallStatus::completed), kNow, config));
}

BOOST_AUTO_TEST_CASE(the_daily_cap_counts_by_the_number_s_local_day_and_moves_a_capped_call_to_tomorrow) {
  DialerConfig config = office_hours();
  BOOST_TEST(!daily_cap_day(config, kPhone, kNow).has_value());  // no cap: nothing counted
  config.max_calls_per_number_per_day = 2;
  config.calling_hours.default_window.zone = TimeZone::fixed(5 * 3600 + 1800, "IST");
  // 10:00 UTC is 15:30 in India, the same day; 20:00 UTC is 01:30 the next.
  BOOST_TEST(format_civil_date(*daily_cap_day(config, kPhone, kNow)) == "2026-03-02");
  BOOST_TEST(format_civil_date(*daily_cap_day(config, kPhone, kNow + 10h)) == "2026-03-03");

  const auto job = placement();
  BOOST_TEST(!decide_after_daily_cap(job, kPhone, kNow, true, config).has_value());  // taken: go on
  const auto unknown = decide_after_daily_cap(job, kPhone, kNow, std::nullopt, config);
  BOOST_REQUIRE(unknown);
  BOOST_TEST(to_string(unknown->why) == "cap_unavailable");
  BOOST_TEST(at(unknown->next->due) == at(kNow + 5s));
  const auto capped = decide_after_daily_cap(job, kPhone, kNow, false, config);
  BOOST_REQUIRE(capped);
  BOOST_TEST(to_string(capped->why) == "daily_cap");
  // Tomorrow's opening in India: 2026-03-03 09:00 IST = 03:30 UTC.
  BOOST_TEST(at(capped->next->due) == at(kNow + 17h + 30min));
  BOOST_TEST(!capped->record.has_value());
  BOOST_TEST(!capped->give_back_call);  // it was not taken
}

BOOST_AUTO_TEST_CASE(a_later_pacing_slot_moves_the_job_into_it_and_gives_back_the_day_s_call) {
  const auto job = placement();
  const std::variant<WallTime, std::string> now_slot = kNow;
  BOOST_TEST(!decide_after_pacing(job, "twilio", 60, kNow, now_slot, true).has_value());
  const std::variant<WallTime, std::string> later = kNow + 3s;
  const auto paced = decide_after_pacing(job, "twilio", 60, kNow, later, true);
  BOOST_REQUIRE(paced);
  BOOST_TEST(to_string(paced->why) == "paced");
  BOOST_TEST(paced->next->slot_reserved);
  BOOST_TEST(at(paced->next->due) == at(kNow + 3s));
  BOOST_TEST(paced->next->reason == "paced: twilio takes 60 calls a minute");
  BOOST_TEST(paced->give_back_call);
  const std::variant<WallTime, std::string> failed = std::string("redis unavailable");
  const auto unavailable = decide_after_pacing(job, "twilio", 60, kNow, failed, false);
  BOOST_REQUIRE(unavailable);
  BOOST_TEST(to_string(unavailable->why) == "pacing_unavailable");
  BOOST_TEST(!unavailable->next->slot_reserved);
  BOOST_TEST(at(unavailable->next->due) == at(kNow + 1s));
  BOOST_TEST(!unavailable->give_back_call);  // nothing was counted
}

BOOST_AUTO_TEST_CASE(each_placement_outcome_records_and_schedules_what_it_means) {
  DialerConfig config;
  config.retry.base = 2s;
  config.retry.cap = 120s;
  config.retry.max_tries = 3;
  const Lead lead = lead_with_attempts(0);
  struct Case {
    const char* name;
    DialJob job;
    providers::PlaceCallOutcome outcome;
    Why why;
    bool provider_failed;
    std::optional<LeadStatus> recorded;
    std::string recorded_sid;
    std::string recorded_error;
    bool next;
    bool next_is_check;
    bool give_back;
  };
  const std::vector<Case> cases = {
      {"placed", placement(), providers::Placed{"CA9", "queued"}, Why::placed, false, LeadStatus::dialing, "CA9", "",
       false, false, false},
      {"ambiguous", placement(), providers::Ambiguous{"timed out after the request was sent"}, Why::ambiguous, false,
       LeadStatus::dialing, "", "ambiguous: timed out after the request was sent", true, true, false},
      {"rejected", placement(), providers::Rejected{21211, "invalid To number", ""}, Why::rejected, false,
       LeadStatus::failed, "", "rejected 21211: invalid To number", false, false, false},
      {"retryable, tries left",
       placement(1, 0),
       providers::Retryable{"503 from the provider", std::nullopt},
       Why::retry,
       true,
       {},
       "",
       "",
       true,
       false,
       true},
      {"retryable, last try", placement(1, 2), providers::Retryable{"503 from the provider", std::nullopt},
       Why::out_of_tries, true, LeadStatus::failed, "", "not placed after 3 tries: 503 from the provider", false, false,
       true},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto decision = decide_after_placement(test.job, lead, "twilio", test.outcome, kNow, true, config, 0.5);
      BOOST_TEST(to_string(decision.finish.why) == to_string(test.why));
      BOOST_TEST(decision.provider_failed == test.provider_failed);
      BOOST_TEST(decision.finish.give_back_call == test.give_back);
      BOOST_TEST(decision.finish.record.has_value() == test.recorded.has_value());
      if (decision.finish.record && test.recorded) {
        BOOST_TEST(to_string(decision.finish.record->status) == to_string(*test.recorded));
        BOOST_TEST(decision.finish.record->attempt.provider == "twilio");
        BOOST_TEST(decision.finish.record->attempt.call_sid == test.recorded_sid);
        BOOST_TEST(decision.finish.record->attempt.error == test.recorded_error);
      }
      BOOST_TEST(decision.finish.next.has_value() == test.next);
      if (decision.finish.next) BOOST_TEST(decision.finish.next->check.has_value() == test.next_is_check);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_retry_waits_the_jittered_backoff_and_never_less_than_retry_after) {
  DialerConfig config;
  config.retry.base = 2s;
  config.retry.cap = 120s;
  config.retry.max_tries = 6;
  const Lead lead = lead_with_attempts(0);
  // Third failure: the backoff is below min(cap, 2 s * 2^2) = 8 s; a draw of 0.5 picks 4 s.
  const providers::PlaceCallOutcome busy = providers::Retryable{"429", std::nullopt};
  const auto drawn = decide_after_placement(placement(1, 2), lead, "twilio", busy, kNow, false, config, 0.5);
  BOOST_REQUIRE(drawn.finish.next);
  BOOST_TEST(drawn.finish.next->failures == 3);
  BOOST_TEST(at(drawn.finish.next->due) == at(kNow + 4s));
  BOOST_TEST(drawn.finish.next->reason == "retry 3: 429");
  // Retry-After of 30 s wins over the backoff.
  const providers::PlaceCallOutcome slow = providers::Retryable{"429", std::chrono::seconds(30)};
  const auto waited = decide_after_placement(placement(1, 2), lead, "twilio", slow, kNow, false, config, 0.5);
  BOOST_TEST(at(waited.finish.next->due) == at(kNow + 30s));
  // A retry due in the evening waits for the morning.
  auto evening_config = office_hours();
  evening_config.retry = config.retry;
  const auto evening = decide_after_placement(placement(1, 2), lead, "twilio", busy, kNow + 8h + 59min + 58s, false,
                                              evening_config, 0.5);
  BOOST_TEST(at(evening.finish.next->due) == at(kNow + 23h));
}

BOOST_AUTO_TEST_CASE(an_ambiguous_placement_s_check_names_the_provider_and_waits_for_grace) {
  DialerConfig config;
  config.ambiguous.grace = 45s;
  const providers::PlaceCallOutcome maybe = providers::Ambiguous{"connection reset after the request"};
  const auto decision =
      decide_after_placement(placement(2, 1), lead_with_attempts(1), "exotel", maybe, kNow, false, config, 0.5);
  const auto& check = decision.finish.next;
  BOOST_REQUIRE(check && check->check);
  BOOST_TEST(check->call == 2);
  BOOST_TEST(check->failures == 1);
  BOOST_TEST(check->check->provider == "exotel");
  BOOST_TEST(at(check->check->since) == at(kNow));
  BOOST_TEST(at(check->due) == at(kNow + 45s));
}

BOOST_AUTO_TEST_CASE(with_every_breaker_open_the_job_waits_for_them) {
  DialerConfig config;
  config.breaker.open_for = 30s;
  const auto finish = decide_no_provider(placement(), kNow, config);
  BOOST_TEST(to_string(finish.why) == "breakers_open");
  BOOST_TEST(at(finish.next->due) == at(kNow + 30s));
  BOOST_TEST(!finish.record.has_value());
}

BOOST_AUTO_TEST_CASE(a_callback_settles_a_check_when_it_filled_in_the_call_or_a_later_one_exists) {
  const auto check = ambiguity_check(2, "twilio");
  BOOST_TEST(!settled_by_callback(check, lead_with_attempts(1)));        // call 2 not recorded yet
  BOOST_TEST(!settled_by_callback(check, lead_with_attempts(2, "")));    // recorded, no sid: still ambiguous
  BOOST_TEST(settled_by_callback(check, lead_with_attempts(2, "CA2")));  // a callback gave it its sid
  BOOST_TEST(settled_by_callback(check, lead_with_attempts(3, "")));     // a later call exists
}

BOOST_AUTO_TEST_CASE(a_check_asks_the_provider_that_took_the_request_else_the_whole_route) {
  const std::vector<ProviderName> route = {ProviderName("exotel"), ProviderName("twilio")};
  BOOST_TEST(providers_to_ask(*ambiguity_check(1, "twilio").check, route).size() == 1u);
  BOOST_TEST(to_string(providers_to_ask(*ambiguity_check(1, "twilio").check, route).front()) == "twilio");
  BOOST_TEST(providers_to_ask(*ambiguity_check(1, "").check, route).size() == 2u);
  BOOST_TEST(providers_to_ask(*ambiguity_check(1, "simulator").check, route).empty());

  auto lead = lead_with_attempts(2, "");
  const auto lookup = lookup_for(lead, *ambiguity_check(2, "twilio").check);
  BOOST_TEST(lookup.to == kPhone);
  BOOST_TEST(at(lookup.since) == at(kNow - 40s));
  BOOST_TEST(lookup.known_call_sids == std::vector<std::string>{"CA-earlier-0"});

  const auto event =
      event_for_found_call("01LEAD", "twilio", providers::FoundCall{"CA77", "ringing", CallStatus::ringing});
  BOOST_TEST(event.lead_id == "01LEAD");
  BOOST_TEST(event.call_sid == "CA77");
  BOOST_TEST(event.provider == "twilio");
  BOOST_TEST(to_string(event.status) == "ringing");
  BOOST_TEST(event.idempotency_token == "lookup:CA77:ringing");
}

BOOST_AUTO_TEST_CASE(after_lookups_without_the_call_it_looks_again_calls_again_or_gives_up) {
  DialerConfig config;
  config.ambiguous.grace = 30s;
  config.ambiguous.recheck_cap = 600s;
  config.ambiguous.max_failed_lookups = 3;
  config.retry.max_tries = 2;
  const Lead lead = lead_with_attempts(1, "");
  struct Case {
    const char* name;
    DialJob job;
    LookupsAnswer answer;
    Why why;
    std::optional<LeadStatus> recorded;
    int next_call;  // 0: no next job
  };
  const std::vector<Case> cases = {
      {"a complete list without the call: called again as call 2",
       ambiguity_check(1, "twilio"),
       LookupsAnswer{true, "", 0s},
       Why::missing_called_again,
       {},
       2},
      {"a list that proves nothing yet (Exotel lists ended calls)",
       ambiguity_check(1, "exotel"),
       LookupsAnswer{true, "", 3600s},
       Why::look_again,
       {},
       1},
      {"a failed lookup: looked at again",
       ambiguity_check(1, "twilio"),
       LookupsAnswer{false, "twilio: timed out", 0s},
       Why::look_again,
       {},
       1},
      {"the third failed lookup in a row: given up", ambiguity_check(1, "twilio", 2, 2),
       LookupsAnswer{false, "twilio: timed out", 0s}, Why::unsettled_gave_up, LeadStatus::failed, 0},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto finish = decide_after_lookups(test.job, lead, test.answer, kNow, config, 0.5);
      BOOST_TEST(to_string(finish.why) == to_string(test.why));
      BOOST_TEST(finish.record.has_value() == test.recorded.has_value());
      BOOST_TEST(finish.next.has_value() == (test.next_call != 0));
      if (finish.next) {
        BOOST_TEST(finish.next->call == test.next_call);
        BOOST_TEST(at(finish.next->due) > 0);
      }
    }
  }
  // The look-again job carries the counts, so the next decision sees them.
  const auto again = decide_after_lookups(ambiguity_check(1, "twilio", 1, 1), lead,
                                          LookupsAnswer{false, "twilio: 500", 0s}, kNow, config, 0.5);
  BOOST_REQUIRE(again.next && again.next->check);
  BOOST_TEST(again.next->check->lookups == 2);
  BOOST_TEST(again.next->check->failed_lookups == 2);
  BOOST_TEST(again.next->reason == "checking whether call 1 rang: lookup failed: twilio: 500");
  // A missing call that used the last try is recorded as failed, not called again.
  const auto spent = decide_after_lookups(
      ambiguity_check(1, "twilio"), lead, LookupsAnswer{true, "", 0s}, kNow,
      [&] {
        auto one_try = config;
        one_try.retry.max_tries = 1;
        return one_try;
      }(),
      0.5);
  BOOST_TEST(to_string(spent.why) == "missing_out_of_tries");
  BOOST_TEST(to_string(spent.record->status) == "failed");
  BOOST_TEST(!spent.next.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
