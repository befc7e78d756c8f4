// The leads this process wrote or read last, as it left them, so that the
// next change to one (a status callback, the dialer's attempt) is a single
// conditional write instead of a read and a write. What is kept may be
// stale (another host, or another reactor, wrote since): the write is
// conditional on the version kept, and a lost race forgets the entry and
// reads the lead again. Bounded: so many leads, each with so many events;
// the least recently used goes first. Shared by the reactors (a mutex).
#pragma once

#include "aws/dynamodb_items.hpp"

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace callgate::aws {

class RecentLeads {
 public:
  // A lead with more events than max_events is not kept: one lead cannot
  // fill memory, and such a lead is read whole each time.
  RecentLeads(std::size_t capacity, std::size_t max_events);

  std::optional<StoredLead> find(const std::string& lead_id);
  void keep(const StoredLead& stored);
  void forget(const std::string& lead_id);
  std::size_t size() const;

 private:
  struct Entry {
    StoredLead stored;
    std::list<std::string>::iterator place;  // in by_use_
  };
  std::size_t capacity_;
  std::size_t max_events_;
  mutable std::mutex mutex_;
  std::list<std::string> by_use_;  // most recently used first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace callgate::aws
