// The webhook spool: durable appends, replay in order into a store that is
// back, partial replay when it fails again, and what survives a restart.
#include "core/store/event_spool.hpp"
#include "core/store/memory_lead_store.hpp"

#include "lead_store_test_helpers.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <random>

using namespace callgate;
using namespace callgate::store;
using namespace callgate::conformance;

namespace {

struct SpoolDirectory {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("callgate-spool-" + std::to_string(std::random_device{}()));
  ~SpoolDirectory() { std::filesystem::remove_all(path); }
};

// A memory store whose apply_event is down whenever is_down says so (by
// how many events it was asked to apply before).
class ScriptedStore final : public store::LeadStore {
 public:
  std::function<bool(int)> is_down = [](int) { return false; };
  store::MemoryLeadStore inner;
  std::vector<std::string> applied;
  int asked = 0;

  boost::asio::awaitable<store::StoreResult<store::CreateResult>> create(store::CreateRequest request) override {
    return inner.create(std::move(request));
  }
  boost::asio::awaitable<store::StoreResult<Lead>> get(std::string id) override { return inner.get(std::move(id)); }
  boost::asio::awaitable<store::StoreResult<Lead>> add_attempt(std::string id, Attempt attempt,
                                                               LeadStatus status) override {
    return inner.add_attempt(std::move(id), std::move(attempt), status);
  }
  boost::asio::awaitable<store::StoreResult<store::ApplyResult>> apply_event(CallEvent event,
                                                                             WallTime received) override {
    if (is_down(asked++)) co_return store::StoreError{store::StoreFailure::unavailable, "down"};
    applied.push_back(event.call_sid);
    co_return co_await inner.apply_event(std::move(event), received);
  }
  boost::asio::awaitable<store::StoreResult<store::UpdateResult>> update_lead(std::string id,
                                                                              LeadUpdate update) override {
    return inner.update_lead(std::move(id), std::move(update));
  }
  boost::asio::awaitable<store::StoreResult<std::optional<std::string>>> find_lead_by_call_sid(
      std::string sid) override {
    return inner.find_lead_by_call_sid(std::move(sid));
  }
  boost::asio::awaitable<store::StoreResult<store::LeadPage>> list(store::LeadQuery query) override {
    return inner.list(std::move(query));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(event_spool)

BOOST_AUTO_TEST_CASE(events_wait_and_replay_in_order) {
  SpoolDirectory directory;
  store::EventSpool spool(directory.path.string());
  for (int index = 0; index < 5; ++index)
    BOOST_TEST(!run(spool.append(make_event("CA" + std::to_string(index), CallStatus::ringing, 1), at(index))));
  BOOST_TEST(spool.pending() == 5u);
  BOOST_TEST(spool.oldest_age_seconds(at(65)) == 65);

  ScriptedStore store;
  store.is_down = [](int) { return true; };  // still down: nothing moves
  BOOST_TEST(run(spool.replay_into(store)) == 0u);
  BOOST_TEST(spool.pending() == 5u);
  store.is_down = [](int) { return false; };
  BOOST_TEST(run(spool.replay_into(store)) == 5u);
  BOOST_TEST(spool.pending() == 0u);
  BOOST_TEST(store.applied == (std::vector<std::string>{"CA0", "CA1", "CA2", "CA3", "CA4"}));
  BOOST_TEST(std::filesystem::file_size(spool.path()) == 0u);
}

BOOST_AUTO_TEST_CASE(a_replay_that_fails_halfway_keeps_the_rest_for_later) {
  SpoolDirectory directory;
  store::EventSpool spool(directory.path.string());
  for (int index = 0; index < 4; ++index)
    run(spool.append(make_event("CA" + std::to_string(index), CallStatus::busy, 1), at(index)));
  ScriptedStore store;
  store.is_down = [](int asked) { return asked >= 2; };  // takes two, then goes away again
  BOOST_TEST(run(spool.replay_into(store)) == 2u);
  BOOST_TEST(spool.pending() == 2u);
  // Appends made meanwhile stay behind the ones still waiting.
  run(spool.append(make_event("CA4", CallStatus::busy, 1), at(4)));
  store.is_down = [](int) { return false; };
  BOOST_TEST(run(spool.replay_into(store)) == 3u);
  BOOST_TEST(store.applied == (std::vector<std::string>{"CA0", "CA1", "CA2", "CA3", "CA4"}));
  BOOST_TEST(spool.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(a_spool_larger_than_a_read_replays_whole_and_in_order) {
  // About 3.5 MiB: several of the replay's 1 MiB reads, records cut by
  // their boundaries.
  SpoolDirectory directory;
  auto owned = std::make_unique<store::EventSpool>(directory.path.string());
  auto& spool = *owned;
  std::vector<std::string> expected;
  for (int index = 0; index < 70; ++index) {
    auto event = make_event("CA" + std::to_string(index), CallStatus::completed, 2);
    event.speech_result = std::string(50'000 + index * 7, 'a' + index % 26);
    BOOST_TEST(!run(spool.append(event, at(index))));
    expected.push_back(event.call_sid);
  }
  BOOST_TEST(std::filesystem::file_size(spool.path()) > 3u * 1024 * 1024);
  ScriptedStore store;
  BOOST_TEST(run(spool.replay_into(store)) == 70u);
  BOOST_TEST(store.applied == expected);
  BOOST_TEST(spool.pending() == 0u);
  BOOST_TEST(std::filesystem::file_size(spool.path()) == 0u);

  // Reopened with a cut last record: what is whole counts, the cut part goes.
  run(spool.append(make_event("CA-a", CallStatus::busy, 1), at(100)));
  run(spool.append(make_event("CA-b", CallStatus::busy, 1), at(101)));
  const auto size = std::filesystem::file_size(spool.path());
  const auto path = spool.path();
  owned.reset();  // the process that wrote it is gone (it held the spool's lock)
  std::filesystem::resize_file(path, size - 5);
  store::EventSpool reopened(directory.path.string());
  BOOST_TEST(reopened.pending() == 1u);
  BOOST_TEST(run(reopened.replay_into(store)) == 1u);
  BOOST_TEST(store.applied.back() == "CA-a");
  // The cut bytes were kept beside the spool before they went.
  bool kept = false;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path))
    kept = kept || entry.path().filename().string().starts_with("webhooks.spool.torn-");
  BOOST_TEST(kept);
}

BOOST_AUTO_TEST_CASE(a_second_spool_on_the_same_directory_is_refused) {
  SpoolDirectory directory;
  store::EventSpool first(directory.path.string());
  BOOST_CHECK_EXCEPTION(store::EventSpool(directory.path.string()), std::runtime_error,
                        [](const std::runtime_error& error) {
                          return std::string(error.what()).find("in use by another callgated") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(each_replayed_event_is_told_with_what_the_store_made_of_it) {
  SpoolDirectory directory;
  store::EventSpool spool(directory.path.string());
  ScriptedStore store;
  run(store.inner.create({make_lead("01A"), "", std::nullopt}));
  run(store.inner.add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing));
  run(spool.append(make_event("CA1", CallStatus::busy, 1), at(1)));
  run(spool.append(make_event("CA-unknown", CallStatus::busy, 1), at(2)));
  std::vector<std::pair<std::string, EventOutcome>> told;
  const auto replayed = run(spool.replay_into(store, [&](const store::ApplyResult& result, const CallEvent& event) {
    told.emplace_back(event.call_sid + "/" + result.lead_id, result.outcome);
  }));
  BOOST_TEST(replayed == 2u);
  BOOST_TEST_REQUIRE(told.size() == 2u);
  BOOST_TEST(told[0].first == "CA1/01A");
  BOOST_TEST((told[0].second == EventOutcome::applied));
  BOOST_TEST(told[1].first == "CA-unknown/");
  BOOST_TEST((told[1].second == EventOutcome::unknown_call));
}

BOOST_AUTO_TEST_CASE(what_was_spooled_survives_a_restart) {
  SpoolDirectory directory;
  {
    store::EventSpool spool(directory.path.string());
    run(spool.append(make_event("CA1", CallStatus::completed, 2), at(1)));
    run(spool.append(make_event("CA2", CallStatus::completed, 2), at(2)));
  }
  store::EventSpool reopened(directory.path.string());
  BOOST_TEST(reopened.pending() == 2u);
  ScriptedStore store;
  BOOST_TEST(run(reopened.replay_into(store)) == 2u);
  BOOST_TEST(store.applied == (std::vector<std::string>{"CA1", "CA2"}));
}

BOOST_AUTO_TEST_SUITE_END()
