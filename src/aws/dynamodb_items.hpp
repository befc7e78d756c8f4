// How callgate's leads and dial jobs are laid out in one DynamoDB table,
// and the JSON of the items and requests that read and write them. Pure:
// the stores (dynamodb_lead_store.hpp, dynamodb_dial_scheduler.hpp) send
// what this builds and read what comes back through it.
//
// The table: partition key "pk" (S), sort key "sk" (S).
//   pk                      sk            what
//   lead#{id}               lead          doc (B, the lead's JSON with its latest events only), version (N,
//                                         counts writes), events (N, how many of its events are in event
//                                         items: the doc holds those after them), lead_status and lead_id
//                                         (the by_status index), lead_list and lead_id (the by_created
//                                         index), idem (its Idempotency-Key)
//   lead#{id}               event#{n}     its n-th event (from 0), doc (B): the lead item keeps its latest
//                                         events while it stays within kLeadItemBudget, so a status
//                                         callback is one PutItem of at most 2 WCU; a write that would
//                                         make it larger moves them to event items in a transaction, so a
//                                         lead with hundreds of events stays far below the 400 KB limit
//   call#{call sid}         call          lead (S): which lead owns the call
//   orphan#{call sid}       orphans       events (L of B): callbacks for a call nobody owns yet, oldest
//                                         first; expires_at (N, TTL)
//   idem#{key}              idem          lead (S): the lead an Idempotency-Key made; expires_at
//   phone#{e164}            phone         lead (S), created (N, ms): the number's latest lead, for the
//                                         duplicate window; expires_at
//   job#{lead id}           job           doc (B, dial_job_json.hpp), claim (N, 0: waiting), lease (N, ms),
//                                         due_bucket and due_key (the due index)
//   calls#{e164}#{date}     calls         n (N): the number's calls that day; expires_at
//   pace#{account}          pace          next (N, µs): the account's next free call slot
// Three global secondary indexes, keys only (or nearly): an update that
// changes none of an index's attributes costs that index nothing.
//   by_status   lead_status + lead_id      GET /leads?status=: lead_status is status_group(status), so
//               a call's queued, initiated, ringing and in-progress callbacks leave the index alone
//               (an index entry that moves costs a delete and a put)
//   by_created  lead_list ("leads") + lead_id   GET /leads (written once per lead: its keys never change)
//   due         due_bucket + due_key, with claim   the dialer's due jobs: "due#0".."due#7" by a hash
//               of the lead id, so no partition is hot; due_key is the time the job is next due (its due
//               time, or its lease's end when claimed) in ms, zero-padded, then "#" and the lead id.
// "expires_at" (seconds since 1970) is the table's TTL attribute. DynamoDB
// deletes expired items within days, not at once: every reader checks the
// time itself.
#pragma once

#include "core/dialer/dial_scheduler.hpp"
#include "core/lead/lead.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callgate::aws {

inline constexpr int kDueBuckets = 8;
// The largest lead item written alone (a PutItem costs a WCU per started
// KiB of the larger of the old and new item): a status callback's write
// stays within 2 WCU. A write past it moves the item's events to event items.
inline constexpr std::size_t kLeadItemBudget = 2048;
inline constexpr std::string_view kStatusIndex = "by_status";
inline constexpr std::string_view kCreatedIndex = "by_created";
inline constexpr std::string_view kDueIndex = "due";

// Attribute values as DynamoDB's JSON writes them.
boost::json::object string_value(std::string_view text);
boost::json::object number_value(std::int64_t number);
boost::json::object binary_value(std::string_view bytes);  // base64 on the wire
// An attribute of an item, when present and of that type.
std::optional<std::string> string_of(const boost::json::object& item, std::string_view name);
std::optional<std::int64_t> number_of(const boost::json::object& item, std::string_view name);
std::optional<std::string> binary_of(const boost::json::object& item, std::string_view name);

// {"pk": {"S": pk}, "sk": {"S": sk}}
boost::json::object item_key(std::string_view pk, std::string_view sk);
std::string lead_pk(std::string_view lead_id);
std::string event_sk(std::size_t index);  // "event#00000042": sorts by number

// A lead as stored: its item and its event items.
struct StoredLead {
  Lead lead;
  std::int64_t version = 0;
  // Its first archived_events events are in event items, the rest in the lead item.
  std::size_t archived_events = 0;
  std::string idempotency_key;
};

// The by_status index's key for a status: "calling" for the statuses of a
// call under way (dialing up to in-progress), the status's own name otherwise.
std::string_view status_group(LeadStatus status);

// The lead item, holding the lead's events from archived_events on.
boost::json::object lead_item(const Lead& lead, std::int64_t version, const std::string& idempotency_key,
                              std::size_t archived_events);
boost::json::object event_item(std::string_view lead_id, std::size_t index, const RecordedEvent& event);
// The lead item alone: lead.events holds only the events kept in it (the
// archived ones were not read).
std::optional<StoredLead> lead_from_item(const boost::json::object& item);
// The lead as its item (read, or returned by a failed condition) says,
// with the archived events known held; nothing when the item's archived
// count is not known's (events were archived since: read the partition).
std::optional<StoredLead> lead_with_item(const StoredLead& known, const boost::json::object& item);
// A Query of the lead's partition: its event items (sorted by sk) and the
// lead item. Nothing when there is no lead item or an item does not read.
std::optional<StoredLead> lead_from_items(const boost::json::array& items);

// The job item and back; due_key and due_bucket as the due index keys them.
std::string job_pk(std::string_view lead_id);
std::string due_bucket(std::string_view lead_id);
std::string due_key(WallTime when, std::string_view lead_id);
std::int64_t epoch_milliseconds(WallTime time);
WallTime from_epoch_milliseconds(std::int64_t milliseconds);
std::int64_t epoch_seconds(WallTime time);

struct StoredJob {
  dialer::DialJob job;
  std::uint64_t claim = 0;  // 0: waiting
  WallTime lease_until{};
  std::string due_key;  // as written: a claim is conditional on it
};
boost::json::object job_item(const dialer::DialJob& job, std::uint64_t claim, WallTime lease_until);
std::optional<StoredJob> job_from_item(const boost::json::object& item);

// An item's size as DynamoDB bills it: each attribute's name and value
// (strings and binaries by their bytes, numbers by their digits, lists and
// maps by their elements and a few bytes each).
std::size_t item_size(const boost::json::object& item);
// The write capacity a write request uses on the table by AWS's rules, as
// far as the request shows it: 1 WCU per started KiB of a put item (an
// update or delete counted as 1), twice that in a transaction, a condition
// check as a write. DynamoDB Local's own figure for transactions is not
// AWS's (it reports 16 for any), so the bench reports this one beside it.
// Index writes are not in it.
double estimated_write_units(std::string_view operation, const boost::json::object& request);

// CreateTable's body for table: the keys, the three indexes, on-demand
// billing. (TTL is turned on by UpdateTimeToLive afterwards.)
std::string create_table_request(std::string_view table);
// What is wrong with a DescribeTable answer for callgate's use; nothing
// when the keys and indexes are as create_table_request makes them.
std::optional<std::string> table_problem(const boost::json::value& describe_answer);

}  // namespace callgate::aws
