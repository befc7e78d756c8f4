// The outbox alone (order, retries, giving up) and with the journal store
// it lives in (what a restart, a snapshot and a new endpoint do).
#include "core/events/event_outbox.hpp"

#include "core/events/lead_events.hpp"
#include "core/store/journal_lead_store.hpp"

#include "lead_store_test_helpers.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>

using namespace callgate;
using namespace callgate::events;
using namespace callgate::conformance;
using namespace std::chrono_literals;

namespace {

LeadEvent event_of(const std::string& lead_id, const std::string& what, int at_seconds,
                   const std::string& type = "call.status") {
  return LeadEvent{"evt_" + lead_id + "_" + what, type, lead_id, at(at_seconds), R"({"type":")" + type + R"("})"};
}

// Emits the events as one change whose record is durable.
void change(EventOutbox& outbox, std::vector<LeadEvent> events) {
  for (auto& event : events) outbox.emit(std::move(event));
  outbox.seal(0);
}

// Takes and delivers everything due now, in the order it comes; the ids.
std::vector<std::string> deliver_all(EventOutbox& outbox, std::size_t endpoint, WallTime now) {
  std::vector<std::string> ids;
  while (auto delivery = outbox.next_due(endpoint, now)) {
    ids.push_back(delivery->event->id);
    outbox.delivered(*delivery);
  }
  return ids;
}

using Ids = std::vector<std::string>;

RetryPolicy quick_retry() {
  RetryPolicy retry;
  retry.first = 1s;
  retry.longest = 8s;
  retry.give_up_after = 3600s;
  retry.endpoint_rest_after = 100;  // out of the way unless a test wants it
  return retry;
}

struct Directory {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("callgate-outbox-" + std::to_string(std::random_device{}()));
  ~Directory() { std::filesystem::remove_all(path); }
};

// A journal store with an outbox in it, as the daemon wires them.
struct JournalWithOutbox {
  std::unique_ptr<EventOutbox> outbox;
  std::unique_ptr<store::JournalLeadStore> store;
  JournalWithOutbox(const Directory& directory, std::vector<OutboxEndpoint> endpoints,
                    std::uint64_t compact_bytes = 256ull * 1024 * 1024) {
    outbox = std::make_unique<EventOutbox>(std::move(endpoints), quick_retry());
    store = std::make_unique<store::JournalLeadStore>(store::JournalStoreOptions{.directory = directory.path.string(),
                                                                                 .compact_bytes = compact_bytes,
                                                                                 .guests = {outbox.get()},
                                                                                 .events = outbox.get()});
    auto& writer = store->writer_for_guest();
    outbox->keep_records_with([&writer](std::string_view payload) { return writer.append(payload); });
    outbox->start_endpoints();
  }
  ~JournalWithOutbox() {
    store.reset();  // the writer syncs what is queued, the outbox's records too
  }
  // A lead called once, its call answered and completed: six events.
  void call_and_complete(const std::string& lead_id, const std::string& call_sid) {
    expect(run(store->create({make_lead(lead_id, "+1415555" + lead_id.substr(lead_id.size() - 4)), "", {}})));
    expect(run(store->add_attempt(lead_id, make_attempt(call_sid, 1), LeadStatus::dialing)));
    for (auto [status, sequence] :
         {std::pair{CallStatus::ringing, 1}, {CallStatus::in_progress, 2}, {CallStatus::completed, 3}})
      expect(run(store->apply_event(make_event(call_sid, status, static_cast<std::uint64_t>(sequence)), at(10))));
  }
};

const Ids kCalledAndCompleted = {"created",           "call1_placed",    "call1_ringing",
                                 "call1_in-progress", "call1_completed", "completed"};
Ids ids_of(const std::string& lead_id, const Ids& whats) {
  Ids ids;
  for (const auto& what : whats) ids.push_back("evt_" + lead_id + "_" + what);
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_outbox)

BOOST_AUTO_TEST_CASE(a_lead_sends_one_event_at_a_time_in_order_while_leads_go_side_by_side) {
  EventOutbox outbox({{"crm", {}}}, quick_retry());
  outbox.start_endpoints();
  change(outbox, {event_of("A", "1", 1), event_of("A", "2", 2)});
  change(outbox, {event_of("B", "1", 3)});
  auto first = outbox.next_due(0, at(10));
  auto second = outbox.next_due(0, at(10));
  BOOST_REQUIRE(first && second);
  BOOST_TEST(first->event->id == "evt_A_1");
  BOOST_TEST(second->event->id == "evt_B_1");
  BOOST_TEST(!outbox.next_due(0, at(10)).has_value());  // A's second waits for its first
  outbox.delivered(*first);
  BOOST_TEST((deliver_all(outbox, 0, at(10)) == Ids{"evt_A_2"}));
  outbox.delivered(*second);
  BOOST_TEST(outbox.state(0, at(10)).owed == 0u);
  BOOST_TEST(outbox.state(0, at(10)).delivered == 3u);
}

BOOST_AUTO_TEST_CASE(an_endpoint_gets_only_the_types_it_asked_for) {
  EventOutbox outbox({{"all", {}}, {"statuses", {"call.status"}}}, quick_retry());
  outbox.start_endpoints();
  change(outbox, {event_of("A", "created", 1, "lead.created"), event_of("A", "ringing", 2)});
  BOOST_TEST((deliver_all(outbox, 0, at(5)) == Ids{"evt_A_created", "evt_A_ringing"}));
  BOOST_TEST((deliver_all(outbox, 1, at(5)) == Ids{"evt_A_ringing"}));
}

BOOST_AUTO_TEST_CASE(nothing_is_owed_before_an_endpoint_starts) {
  EventOutbox outbox({{"crm", {}}}, quick_retry());
  change(outbox, {event_of("A", "1", 1)});
  outbox.start_endpoints();
  change(outbox, {event_of("A", "2", 2)});
  BOOST_TEST((deliver_all(outbox, 0, at(5)) == Ids{"evt_A_2"}));
}

BOOST_AUTO_TEST_CASE(a_failed_delivery_waits_doubling_backoff_and_keeps_the_leads_order) {
  EventOutbox outbox({{"crm", {}}}, quick_retry());
  outbox.start_endpoints();
  change(outbox, {event_of("A", "1", 0), event_of("A", "2", 0)});
  auto now = at(0);
  for (const auto wait : {1s, 2s, 4s, 8s, 8s}) {  // doubling up to retry.longest
    auto delivery = outbox.next_due(0, now);
    BOOST_REQUIRE(delivery.has_value());
    BOOST_TEST(delivery->event->id == "evt_A_1");
    BOOST_TEST(!outbox.not_delivered(*delivery, "answered 500", now));
    BOOST_TEST(!outbox.next_due(0, now + wait - 1ms).has_value());  // not before its wait, nor A's second
    BOOST_TEST((outbox.next_wait_end(0) == now + wait));
    now += wait;
  }
  BOOST_TEST(outbox.state(0, now).retried == 5u);
  BOOST_TEST((deliver_all(outbox, 0, now) == Ids{"evt_A_1", "evt_A_2"}));
}

BOOST_AUTO_TEST_CASE(an_endpoint_failing_for_every_lead_rests_instead_of_being_asked_for_each) {
  auto retry = quick_retry();
  retry.endpoint_rest_after = 3;
  EventOutbox outbox({{"crm", {}}}, retry);
  outbox.start_endpoints();
  for (const auto* lead : {"A", "B", "C", "D"}) change(outbox, {event_of(lead, "1", 0)});
  for (int failures = 0; failures < 3; ++failures) {
    auto delivery = outbox.next_due(0, at(0));
    BOOST_REQUIRE(delivery.has_value());
    outbox.not_delivered(*delivery, "connection refused", at(0));
  }
  // D never failed, but the endpoint rests: nothing goes out until it has.
  BOOST_TEST(!outbox.next_due(0, at(0)).has_value());
  BOOST_TEST(outbox.state(0, at(0)).resting_until.has_value());
  BOOST_TEST(outbox.next_due(0, at(1)).has_value());
}

BOOST_AUTO_TEST_CASE(an_event_older_than_the_period_is_kept_as_failed_and_can_be_redelivered) {
  EventOutbox outbox({{"crm", {}}}, quick_retry());
  outbox.start_endpoints();
  change(outbox, {event_of("A", "1", 0), event_of("A", "2", 0)});
  auto delivery = outbox.next_due(0, at(3600));
  BOOST_REQUIRE(delivery.has_value());
  BOOST_TEST(outbox.not_delivered(*delivery, "answered 410", at(3600)));  // an hour after the change: given up
  const auto failed = outbox.failed_events(0);
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].event->id == "evt_A_1");
  BOOST_TEST(failed[0].reason == "answered 410");
  // The lead's next event is not held back by the one given up.
  BOOST_TEST((deliver_all(outbox, 0, at(3600)) == Ids{"evt_A_2"}));

  BOOST_TEST(!outbox.redeliver(0, "evt_A_9", at(4000)));
  BOOST_TEST(outbox.redeliver(0, "evt_A_1", at(4000)));
  BOOST_TEST(outbox.failed_events(0).empty());
  // Owed for another whole period from the redelivery: a failure now is retried.
  delivery = outbox.next_due(0, at(4000));
  BOOST_REQUIRE(delivery.has_value());
  BOOST_TEST(!outbox.not_delivered(*delivery, "answered 500", at(4000)));
}

BOOST_AUTO_TEST_CASE(the_journal_store_tells_each_change_once_its_record_has_a_ticket) {
  Directory directory;
  JournalWithOutbox journal(directory, {{"crm", {}}});
  journal.call_and_complete("01LEAD0001", "CA1");
  // A duplicate and an out-of-order status change nothing, and tell nothing.
  run(journal.store->apply_event(make_event("CA1", CallStatus::completed, 3), at(11)));
  run(journal.store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(12)));
  std::vector<std::uint64_t> tickets;
  Ids ids;
  while (auto delivery = journal.outbox->next_due(0, at(20))) {
    ids.push_back(delivery->event->id);
    tickets.push_back(delivery->ticket);
    journal.outbox->delivered(*delivery);
  }
  BOOST_TEST(ids == ids_of("01LEAD0001", kCalledAndCompleted), boost::test_tools::per_element());
  for (const auto ticket : tickets) BOOST_TEST(ticket > 0u);  // sent once that record is durable
}

BOOST_AUTO_TEST_CASE(a_restart_owes_what_was_not_delivered_with_the_same_ids_and_nothing_else) {
  Directory directory;
  {
    JournalWithOutbox journal(directory, {{"crm", {}}});
    journal.call_and_complete("01LEAD0001", "CA1");
    // Two of the first lead's delivered; the third in flight when the process ends.
    for (int delivered = 0; delivered < 2; ++delivered) {
      auto delivery = journal.outbox->next_due(0, at(20));
      BOOST_REQUIRE(delivery.has_value());
      journal.outbox->delivered(*delivery);
    }
    BOOST_REQUIRE(journal.outbox->next_due(0, at(20)).has_value());
    journal.call_and_complete("01LEAD0002", "CA2");
    journal.outbox->emit_recorded(redial_scheduled_event("01LEAD0002", 2, at(100), "redial: test", at(30)));
  }
  JournalWithOutbox reopened(directory, {{"crm", {}}});
  BOOST_TEST(reopened.outbox->state(0, at(40)).owed == 4u + 7u);
  std::map<std::string, Ids> by_lead;
  while (auto delivery = reopened.outbox->next_due(0, at(40))) {
    by_lead[delivery->event->lead_id].push_back(delivery->event->id);
    reopened.outbox->delivered(*delivery);
  }
  const Ids rest_of_first(kCalledAndCompleted.begin() + 2, kCalledAndCompleted.end());
  BOOST_TEST(by_lead["01LEAD0001"] == ids_of("01LEAD0001", rest_of_first), boost::test_tools::per_element());
  auto second = kCalledAndCompleted;
  second.push_back("call2_scheduled");
  BOOST_TEST(by_lead["01LEAD0002"] == ids_of("01LEAD0002", second), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_replay_never_owes_what_the_journal_says_was_delivered_later) {
  Directory directory;
  {
    JournalWithOutbox journal(directory, {{"crm", {}}});
    journal.call_and_complete("01LEAD0001", "CA1");
    journal.call_and_complete("01LEAD0002", "CA2");
    journal.call_and_complete("01LEAD0003", "CA3");
    // A delivery told twice finishes only itself, not the lead's next event.
    auto delivery = journal.outbox->next_due(0, at(20));
    BOOST_REQUIRE(delivery.has_value());
    journal.outbox->delivered(*delivery);
    journal.outbox->delivered(*delivery);
    BOOST_TEST(!journal.outbox->not_delivered(*delivery, "late", at(20)));
    BOOST_TEST(journal.outbox->state(0, at(20)).owed == 12u + 5u);
    deliver_all(*journal.outbox, 0, at(20));
  }
  JournalWithOutbox reopened(directory, {{"crm", {}}});
  // Memory at start-up: nothing was owed at any point of the replay.
  BOOST_TEST(reopened.outbox->replay_peak_owed() == 0u);
  BOOST_TEST(reopened.outbox->state(0, at(40)).owed == 0u);
  BOOST_TEST(reopened.outbox->state(0, at(40)).delivered == 18u);
  // What comes after the replay is owed as ever.
  reopened.call_and_complete("01LEAD0004", "CA4");
  BOOST_TEST((deliver_all(*reopened.outbox, 0, at(40)) == ids_of("01LEAD0004", kCalledAndCompleted)));
}

BOOST_AUTO_TEST_CASE(a_snapshot_keeps_what_is_owed_and_what_failed) {
  Directory directory;
  {
    // Compacted after almost every record.
    JournalWithOutbox journal(directory, {{"crm", {}}}, 256);
    for (int lead = 1; lead <= 20; ++lead) {
      char id[16];
      std::snprintf(id, sizeof id, "01LEAD%04d", lead);
      journal.call_and_complete(id, "CA" + std::to_string(lead));
      // The first ten leads' events delivered as they come, the rest owed.
      if (lead <= 10) deliver_all(*journal.outbox, 0, at(20));
    }
    auto delivery = journal.outbox->next_due(0, at(20) + 3600s);
    BOOST_REQUIRE(delivery.has_value());
    BOOST_REQUIRE(journal.outbox->not_delivered(*delivery, "answered 404", at(20) + 3600s));
    BOOST_TEST(journal.store->compactions() > 0u);
  }
  JournalWithOutbox reopened(directory, {{"crm", {}}});
  BOOST_TEST(reopened.outbox->state(0, at(40)).owed == 10u * 6u - 1u);
  BOOST_TEST(reopened.outbox->failed_events(0).size() == 1u);
  BOOST_TEST(reopened.outbox->failed_events(0)[0].reason == "answered 404");
  std::map<std::string, Ids> by_lead;
  for (const auto& id : deliver_all(*reopened.outbox, 0, at(40))) by_lead[id.substr(4, 10)].push_back(id);
  BOOST_TEST(by_lead.size() == 10u);
  for (const auto& [lead, ids] : by_lead) {
    auto expected = ids_of(lead, kCalledAndCompleted);
    if (ids.size() == 5u) expected.erase(expected.begin());  // the one given up
    BOOST_TEST(ids == expected, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(an_endpoint_added_later_is_not_sent_the_journals_past) {
  Directory directory;
  {
    JournalWithOutbox journal(directory, {{"crm", {}}});
    journal.call_and_complete("01LEAD0001", "CA1");
  }
  JournalWithOutbox reopened(directory, {{"crm", {}}, {"warehouse", {}}});
  BOOST_TEST(reopened.outbox->state(1, at(40)).owed == 0u);
  BOOST_TEST(reopened.outbox->state(0, at(40)).owed == 6u);
  reopened.call_and_complete("01LEAD0002", "CA2");
  BOOST_TEST((deliver_all(*reopened.outbox, 1, at(40)) == ids_of("01LEAD0002", kCalledAndCompleted)));
}

BOOST_AUTO_TEST_CASE(a_journal_opened_without_an_outbox_passes_over_its_records) {
  Directory directory;
  {
    JournalWithOutbox journal(directory, {{"crm", {}}});
    journal.call_and_complete("01LEAD0001", "CA1");
    deliver_all(*journal.outbox, 0, at(20));
    journal.outbox->emit_recorded(redial_scheduled_event("01LEAD0001", 2, at(100), "redial: test", at(30)));
  }
  // events.endpoints emptied: the daemon opens the journal with no outbox.
  const auto open_without = [&] {
    return std::make_unique<store::JournalLeadStore>(store::JournalStoreOptions{
        .directory = directory.path.string(), .passed_over_kinds = EventOutbox::record_kinds()});
  };
  auto store = open_without();
  BOOST_TEST((expect(run(store->get("01LEAD0001"))).status == LeadStatus::completed));
  store.reset();
  // Without the kinds passed over, the same journal stops the start: that is what they are for.
  BOOST_CHECK_THROW(store::JournalLeadStore(store::JournalStoreOptions{.directory = directory.path.string()}),
                    std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
