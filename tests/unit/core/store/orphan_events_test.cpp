// The orphans' own bookkeeping, below the table: texts packed in blocks, the
// index by hash of call sid with its chains, letting go by count and age,
// and pictures that outlive what they show.
#include "core/store/orphan_events.hpp"

#include "core/lead/lead_json.hpp"

#include "lead_store_test_helpers.hpp"

using namespace callgate;
using namespace callgate::store;
using namespace callgate::conformance;

namespace {

std::string json_of(const CallEvent& event) {
  std::string text;
  append_json(text, event);
  return text;
}

void keep(store::OrphanEvents& orphans, const CallEvent& event, int second) {
  orphans.keep(event.call_sid, json_of(event), at(second));
}

// Every call sid collides: the chains alone keep calls apart.
std::uint64_t one_hash_for_all(std::string_view) { return 42; }

std::vector<std::string> sids_in(const store::OrphanEvents::Picture& picture) {
  std::vector<std::string> sids;
  for (const auto& orphan : picture.orphans) {
    boost::system::error_code error;
    const auto event = call_event_from_json(parse_stored_json(orphan.event_json, error));
    BOOST_TEST_REQUIRE((!error && event.has_value()), "a pictured orphan decodes");
    sids.push_back(event->call_sid);
  }
  return sids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(orphan_events)

BOOST_AUTO_TEST_CASE(taking_returns_the_calls_orphans_oldest_first_and_whole) {
  store::OrphanEvents orphans(store::OrphanLimits{100, std::chrono::hours(1)});
  auto completed = make_event("CA1", CallStatus::completed, 3);
  completed.duration_seconds = 42;
  completed.recording_url = "https://api.twilio.com/recordings/RE1";
  keep(orphans, make_event("CA1", CallStatus::ringing, 1), 1);
  keep(orphans, make_event("CA2", CallStatus::ringing, 1), 2);
  keep(orphans, completed, 3);
  BOOST_TEST(orphans.size() == 3u);

  const auto taken = orphans.take("CA1");
  BOOST_TEST_REQUIRE(taken.size() == 2u);
  BOOST_TEST((taken[0].event.status == CallStatus::ringing));
  BOOST_TEST((taken[0].received == at(1)));
  BOOST_TEST((taken[1].event.status == CallStatus::completed));
  BOOST_TEST(*taken[1].event.duration_seconds == 42);
  BOOST_TEST(taken[1].event.recording_url == completed.recording_url);
  BOOST_TEST((taken[1].received == at(3)));
  BOOST_TEST(orphans.size() == 1u);
  BOOST_TEST(orphans.take("CA1").empty(), "taken once only");
  BOOST_TEST(orphans.take("CA9").empty());
  BOOST_TEST(sids_in(orphans.picture()) == std::vector<std::string>{"CA2"});
}

BOOST_AUTO_TEST_CASE(calls_whose_sids_share_a_hash_stay_apart) {
  store::OrphanEvents orphans(store::OrphanLimits{4, std::chrono::hours(1)}, &one_hash_for_all);
  keep(orphans, make_event("CA1", CallStatus::ringing, 1), 1);
  keep(orphans, make_event("CA2", CallStatus::ringing, 1), 2);
  keep(orphans, make_event("CA1", CallStatus::in_progress, 2), 3);
  keep(orphans, make_event("CA3", CallStatus::ringing, 1), 4);

  const auto first = orphans.take("CA1");
  BOOST_TEST_REQUIRE(first.size() == 2u);
  BOOST_TEST((first[0].event.status == CallStatus::ringing));
  BOOST_TEST((first[1].event.status == CallStatus::in_progress));
  BOOST_TEST(orphans.size() == 2u);

  // CA4 and CA5 push the two oldest places out (CA1, already taken, then
  // CA2): CA2 is let go, CA3 still waits behind a chain that starts at a
  // newer orphan and runs through places already gone.
  keep(orphans, make_event("CA4", CallStatus::ringing, 1), 5);
  keep(orphans, make_event("CA5", CallStatus::ringing, 1), 6);
  BOOST_TEST(orphans.let_go() == 1u);
  BOOST_TEST(orphans.take("CA2").empty());
  BOOST_TEST_REQUIRE(orphans.take("CA3").size() == 1u);
  BOOST_TEST(sids_in(orphans.picture()) == (std::vector<std::string>{"CA4", "CA5"}));
  BOOST_TEST_REQUIRE(orphans.take("CA5").size() == 1u);
  BOOST_TEST_REQUIRE(orphans.take("CA4").size() == 1u);
  BOOST_TEST(orphans.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_oldest_go_by_count_and_by_age_and_their_blocks_with_them) {
  store::OrphanEvents orphans(store::OrphanLimits{1000, std::chrono::seconds(60)});
  for (int index = 0; index < 50000; ++index)
    keep(orphans, make_event("CA-count-" + std::to_string(index), CallStatus::busy, 1), 0);
  BOOST_TEST(orphans.size() == 1000u);
  BOOST_TEST(orphans.let_go() == 49000u);
  // 1,000 texts of a few hundred bytes fit in a handful of 64 KiB blocks;
  // 50,000 did not, so the others were freed on the way.
  BOOST_TEST(orphans.blocks() <= 8u);
  BOOST_TEST(orphans.take("CA-count-48999").empty());
  BOOST_TEST(orphans.take("CA-count-49000").size() == 1u);

  // Two minutes later one newcomer sends every older one away.
  keep(orphans, make_event("CA-late", CallStatus::ringing, 1), 120);
  BOOST_TEST(orphans.size() == 1u);
  BOOST_TEST(orphans.let_go() == 49999u);
  BOOST_TEST(orphans.blocks() == 1u);
  BOOST_TEST(sids_in(orphans.picture()) == std::vector<std::string>{"CA-late"});
}

BOOST_AUTO_TEST_CASE(a_picture_reads_the_same_after_everything_in_it_was_let_go) {
  store::OrphanEvents orphans(store::OrphanLimits{300, std::chrono::hours(1)});
  for (int index = 0; index < 300; ++index)
    keep(orphans, make_event("CA-old-" + std::to_string(index), CallStatus::busy, 1), 1);
  const auto picture = orphans.picture();
  for (int index = 0; index < 3000; ++index)
    keep(orphans, make_event("CA-new-" + std::to_string(index), CallStatus::busy, 1), 2);
  BOOST_TEST(orphans.take("CA-old-0").empty());
  const auto sids = sids_in(picture);
  BOOST_TEST_REQUIRE(sids.size() == 300u);
  for (int index = 0; index < 300; ++index)
    BOOST_TEST(sids[static_cast<std::size_t>(index)] == "CA-old-" + std::to_string(index));
  for (const auto& orphan : picture.orphans) BOOST_TEST((orphan.received == at(1)));
}

BOOST_AUTO_TEST_CASE(a_text_larger_than_a_block_and_odd_bytes_are_kept_as_they_came) {
  store::OrphanEvents orphans(store::OrphanLimits{10, std::chrono::hours(1)});
  auto long_speech = make_event("CA\xff\xfe", CallStatus::completed, 2);
  long_speech.speech_result = std::string(100 * 1024, 'a') + std::string("caf\xe9", 4);
  keep(orphans, make_event("CA-small", CallStatus::ringing, 1), 1);
  keep(orphans, long_speech, 2);
  keep(orphans, make_event("CA-after", CallStatus::ringing, 1), 3);
  const auto taken = orphans.take("CA\xff\xfe");
  BOOST_TEST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].event.speech_result == long_speech.speech_result);
  BOOST_TEST(orphans.take("CA-small").size() == 1u);
  BOOST_TEST(orphans.take("CA-after").size() == 1u);
}

BOOST_AUTO_TEST_CASE(with_no_room_nothing_waits) {
  store::OrphanEvents orphans(store::OrphanLimits{0, std::chrono::hours(1)});
  keep(orphans, make_event("CA1", CallStatus::ringing, 1), 1);
  BOOST_TEST(orphans.size() == 0u);
  BOOST_TEST(orphans.let_go() == 1u);
  BOOST_TEST(orphans.take("CA1").empty());
}

// 300 forged callbacks of 900 KB each, for calls nobody knows, grew the
// daemon from 51 to 490 MB: the count limit alone let them all stay.
BOOST_AUTO_TEST_CASE(orphans_are_let_go_by_bytes_as_well_as_by_count) {
  constexpr std::size_t kLimit = 4 * 1024 * 1024;
  store::OrphanEvents orphans(store::OrphanLimits{100'000, std::chrono::hours(1), kLimit});
  for (int index = 0; index < 300; ++index) {
    auto event = make_event("CA" + std::to_string(index), CallStatus::ringing, 1);
    event.speech_result = std::string(900 * 1024, 'x');
    keep(orphans, event, 1);
    BOOST_TEST_REQUIRE(orphans.bytes() <= kLimit);
  }
  BOOST_TEST(orphans.size() <= kLimit / (900 * 1024));
  BOOST_TEST(orphans.let_go() >= 300u - kLimit / (900 * 1024));
  // The newest are the ones kept, and they still decode whole.
  const auto newest = orphans.take("CA299");
  BOOST_TEST_REQUIRE(newest.size() == 1u);
  BOOST_TEST(newest[0].event.speech_result.size() == 900u * 1024);
  // Held blocks follow: a block per orphan this size, and no more than fit.
  BOOST_TEST(orphans.blocks() <= kLimit / (900 * 1024) + 1);
}

BOOST_AUTO_TEST_SUITE_END()
