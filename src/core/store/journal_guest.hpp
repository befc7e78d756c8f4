// Another part of callgated whose records live in the lead journal: the
// embedded dialer's jobs. One writer and one sync then serve a lead and its
// job, instead of two files each with its own writer thread and syncs,
// which were most of an enquiry's cost (bench/README.md).
//
// The journal store replays the guest's records to it at start-up, in
// journal order among its own, and puts the guest's state into every
// snapshot that replaces the file. The guest appends through the store's
// writer and never starts a snapshot itself.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::store {

// A guest that keeps its records elsewhere this run names their kinds
// ("op"), so that one of them found in the journal stops the start with
// the guest's own explanation instead of "does not parse".
struct AbsentGuest {
  std::vector<std::string_view> kinds;
  std::string explanation;
};

class JournalGuest {
 public:
  virtual ~JournalGuest() = default;
  // Whether a record's "op" is one of the guest's.
  virtual bool owns_op(std::string_view op) const = 0;
  // Every record of the file, its own and others', before the replay
  // proper: a guest that learns from later records what earlier ones need
  // not hold (the outbox, which events were delivered) looks here.
  virtual void look_ahead(std::string_view /*payload*/) {}
  // One of its records, at start-up; throws std::runtime_error when it does not parse.
  virtual void replay_record(std::string_view payload) = 0;
  // Takes the guest's state as record payloads and, with the guest still
  // held (no record of its own can come in between), calls queue_snapshot
  // with them: the snapshot is queued at that point of the journal's order.
  virtual void hold_for_snapshot(const std::function<void(std::vector<std::string> payloads)>& queue_snapshot) = 0;
};

}  // namespace callgate::store
