// The table layout's items, pure: what is written reads back whole, keys
// sort as the indexes need, sizes and write units are AWS's arithmetic,
// and a table keyed otherwise is named for what is wrong with it.
#include "aws/dynamodb_items.hpp"

#include "core/lead/lead_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

namespace callgate::aws {
namespace {

namespace json = boost::json;

WallTime at(int seconds) { return WallTime(std::chrono::seconds(1'790'000'000 + seconds)); }

Lead lead_with_events(std::size_t events) {
  Lead lead;
  lead.id = "01JDLEAD";
  lead.phone = "+919876543210";
  lead.name = "Asha";
  lead.metadata_json = R"({"campaign":"diwali"})";
  lead.consent = {at(0), "203.0.113.9", "Mozilla/5.0", "v3"};
  lead.created = at(0);
  lead.updated = at(9);
  lead.status = LeadStatus::ringing;
  Attempt attempt;
  attempt.provider = "exotel";
  attempt.call_sid = "c0ffee";
  attempt.created = at(1);
  attempt.status = CallStatus::ringing;
  lead.attempts.push_back(attempt);
  for (std::size_t index = 0; index < events; ++index) {
    CallEvent event;
    event.provider = "exotel";
    event.call_sid = "c0ffee";
    event.status = CallStatus::ringing;
    event.raw_status = "ringing \xc3\x28";  // not UTF-8, as a provider may send it
    event.sequence_number = index;
    lead.events.push_back({event, at(static_cast<int>(index)), EventOutcome::out_of_order});
  }
  return lead;
}

// The partition as a Query returns it: the first archived events in event
// items, the others in the lead item.
json::array items_of(const Lead& lead, std::int64_t version, std::size_t archived) {
  json::array items;
  for (std::size_t index = 0; index < archived; ++index)
    items.push_back(event_item(lead.id, index, lead.events[index]));
  items.push_back(lead_item(lead, version, "key-1", archived));
  return items;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamodb_items)

BOOST_AUTO_TEST_CASE(a_lead_and_its_event_items_read_back_whole) {
  const auto lead = lead_with_events(5);
  for (std::size_t archived = 0; archived <= 5; ++archived) {
    const auto stored = lead_from_items(items_of(lead, 7, archived));
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST((stored->lead == lead), "archived " << archived);
    BOOST_TEST(stored->version == 7);
    BOOST_TEST(stored->archived_events == archived);
    BOOST_TEST(stored->idempotency_key == "key-1");
  }
  // The lead's item holds the events after the archived ones, in order.
  const auto item = lead_item(lead, 7, "", 3);
  BOOST_TEST(binary_of(item, "doc")->find("c0ffee") != std::string::npos);  // the attempt's sid
  const auto alone = lead_from_item(item);
  BOOST_TEST_REQUIRE(alone.has_value());
  BOOST_TEST_REQUIRE(alone->lead.events.size() == 2u);
  BOOST_TEST((alone->lead.events[0] == lead.events[3]));
  BOOST_TEST((alone->lead.events[1] == lead.events[4]));
  BOOST_TEST(number_of(item, "events").value_or(-1) == 3);
  BOOST_TEST(string_of(item, "lead_status").value_or("") == "calling");  // status_group(ringing)
  BOOST_TEST(!item.contains("idem"));
  // More archived than there are: none kept, the count capped.
  BOOST_TEST(number_of(lead_item(lead, 7, "", 9), "events").value_or(-1) == 5);
}

BOOST_AUTO_TEST_CASE(a_lead_item_returned_by_a_refusal_completes_what_was_known_unless_events_were_archived) {
  const auto lead = lead_with_events(5);
  const auto known = lead_from_items(items_of(lead, 3, 2));  // 2 archived, 3 in the item
  BOOST_TEST_REQUIRE(known.has_value());
  auto newer = lead;
  newer.events.push_back(newer.events.back());
  newer.events.back().event.sequence_number = 99;
  // Another writer added an event, archiving nothing: known's archive and the new item make the lead.
  const auto now = lead_with_item(*known, lead_item(newer, 4, "key-1", 2));
  BOOST_TEST_REQUIRE(now.has_value());
  BOOST_TEST((now->lead == newer));
  BOOST_TEST(now->version == 4);
  BOOST_TEST(now->archived_events == 2u);
  // It archived them: what is known no longer says which events are archived.
  BOOST_TEST(!lead_with_item(*known, lead_item(newer, 4, "key-1", 6)).has_value());
}

BOOST_AUTO_TEST_CASE(a_call_under_way_keeps_one_status_index_key) {
  for (const auto status :
       {LeadStatus::dialing, LeadStatus::queued, LeadStatus::initiated, LeadStatus::ringing, LeadStatus::in_progress})
    BOOST_TEST(status_group(status) == "calling");
  for (const auto status : {LeadStatus::pending, LeadStatus::scheduled, LeadStatus::completed, LeadStatus::busy,
                            LeadStatus::no_answer, LeadStatus::failed, LeadStatus::canceled})
    BOOST_TEST(status_group(status) == to_string(status));
  BOOST_TEST(!parse_lead_status("calling").has_value());  // no status of its own could be mistaken for it
}

BOOST_AUTO_TEST_CASE(a_partition_read_short_of_its_events_or_without_its_lead_is_not_a_lead) {
  const auto lead = lead_with_events(3);
  auto items = items_of(lead, 1, 3);
  items.erase(items.begin() + 1);  // one event item missing: a read that met a write between pages
  BOOST_TEST(!lead_from_items(items).has_value());
  auto no_lead = items_of(lead, 1, 3);
  no_lead.pop_back();
  BOOST_TEST(!lead_from_items(no_lead).has_value());
  auto damaged = items_of(lead, 1, 3);
  damaged.back().as_object()["doc"] = binary_value("{not json");
  BOOST_TEST(!lead_from_items(damaged).has_value());
}

BOOST_AUTO_TEST_CASE(event_keys_sort_by_number_and_before_the_lead) {
  BOOST_TEST((event_sk(9) < event_sk(10)));
  BOOST_TEST((event_sk(99'999) < event_sk(100'000)));
  BOOST_TEST((event_sk(12'345'678) < std::string("lead")));  // a Query of the partition: events, then the lead
}

BOOST_AUTO_TEST_CASE(due_keys_sort_by_time_and_buckets_spread_the_jobs) {
  BOOST_TEST((due_key(at(9), "01Z") < due_key(at(10), "01A")));
  BOOST_TEST((due_key(at(10), "01A") < due_key(at(10), "01B")));
  std::set<std::string> buckets;
  for (int index = 0; index < 1'000; ++index) {
    const auto bucket = due_bucket("01JD" + std::to_string(index));
    BOOST_TEST(bucket == due_bucket("01JD" + std::to_string(index)));  // the same on every host
    buckets.insert(bucket);
  }
  BOOST_TEST(buckets.size() == static_cast<std::size_t>(kDueBuckets));
}

BOOST_AUTO_TEST_CASE(a_job_reads_back_and_a_claimed_one_is_due_when_its_lease_ends) {
  auto job = dialer::dial_job("01A", 2, at(100), "redial: busy");
  job.check = dialer::AmbiguousCheck{"twilio", at(90), 1, 0};
  const auto waiting = job_from_item(job_item(job, 0, WallTime{}));
  BOOST_TEST_REQUIRE(waiting.has_value());
  BOOST_TEST((waiting->job == job));
  BOOST_TEST(waiting->claim == 0u);
  BOOST_TEST(waiting->due_key == due_key(at(100), "01A"));
  const auto claimed = job_from_item(job_item(job, 77, at(130)));
  BOOST_TEST_REQUIRE(claimed.has_value());
  BOOST_TEST(claimed->claim == 77u);
  BOOST_TEST((claimed->lease_until == at(130)));
  BOOST_TEST(claimed->due_key == due_key(at(130), "01A"));
}

BOOST_AUTO_TEST_CASE(sizes_and_write_units_follow_aws_arithmetic) {
  // Names and string bytes; a number by its digits ((3 + 1) / 2 + 1); binary by its bytes, not its base64.
  const json::object item{{"pk", string_value("lead#1")}, {"v", number_value(123)}, {"b", binary_value("abcd")}};
  BOOST_TEST(item_size(item) == (2u + 6u) + (1u + 3u) + (1u + 4u));
  const json::object small{{"Item", item}};
  BOOST_TEST(estimated_write_units("PutItem", small) == 1.0);
  const json::object large{{"Item", json::object{{"doc", binary_value(std::string(1500, 'x'))}}}};
  BOOST_TEST(estimated_write_units("PutItem", large) == 2.0);
  const json::object transaction{
      {"TransactItems", json::array{json::object{{"Put", small}}, json::object{{"Put", large}},
                                    json::object{{"ConditionCheck", json::object{}}}}}};
  BOOST_TEST(estimated_write_units("TransactWriteItems", transaction) == 2.0 * (1 + 2 + 1));
  BOOST_TEST(estimated_write_units("Query", small) == 0.0);
}

BOOST_AUTO_TEST_CASE(a_table_keyed_otherwise_is_named_for_what_is_wrong) {
  // DescribeTable's answer carries what CreateTable was given.
  auto table = json::parse(create_table_request("callgate")).as_object();
  json::object answer{{"Table", table}};
  BOOST_TEST(!table_problem(answer).has_value());
  auto other_key = answer;
  other_key["Table"].as_object()["KeySchema"] = json::parse(R"([{"AttributeName":"id","KeyType":"HASH"}])");
  BOOST_TEST(table_problem(other_key).value_or("").find("id HASH") != std::string::npos);
  auto no_due = answer;
  no_due["Table"].as_object()["GlobalSecondaryIndexes"].as_array().pop_back();
  BOOST_TEST(table_problem(no_due).value_or("").find("no global secondary index due") != std::string::npos);
  BOOST_TEST(table_problem(json::object{}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate::aws
