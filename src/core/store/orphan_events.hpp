// Status callbacks for calls nobody knows (yet): orphans. They wait in
// memory for their call sid to show up (a callback that overtook the
// answer to its own call's placement), but only so many and only for so
// long, oldest let go first.
//
// A flood of them is what a gateway sees when another system's callbacks
// reach it, and what the webhook bench sends: every callback is kept and,
// a moment later, let go. With a hundred thousand waiting, the one let go
// is long out of the CPU's caches, so this is laid out to never touch an
// old orphan's memory to let it go:
// - each orphan is kept as its event's JSON text (append_json), packed in
//   arrival order into blocks of 64 KiB; letting the oldest go moves a
//   position, and a block is freed whole once its last orphan has gone and
//   no picture shares it;
// - the index maps a 64-bit hash of the call sid to the newest orphan with
//   that hash, and each orphan links to the one before it with the same
//   hash: finding a call's orphans follows its own chain, and letting one
//   go costs one probe of a flat table.
// Taking orphans (their call showed up) decodes their text again: rare, and
// paid by the one that needs it.
//
// Pure: no locking, no I/O; the owner (LeadTable) serializes access.
#pragma once

#include "core/lead/lead.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::store {

struct OrphanLimits {
  std::size_t max_in_memory = 100000;
  std::chrono::seconds max_wait{3600};  // an orphan older than this (by receive time) is let go
  // Their text, in bytes: a few hundred forged callbacks of a megabyte
  // each must not take the daemon's memory with them (a count alone let
  // 300 of them grow the process from 51 to 490 MB).
  std::size_t max_bytes = 64 * 1024 * 1024;
};

struct OrphanEvent {
  CallEvent event;
  WallTime received;
};

class OrphanEvents {
 public:
  // Hashes call sids for the index; tests pass one that collides on purpose.
  using SidHash = std::uint64_t (*)(std::string_view call_sid);
  explicit OrphanEvents(OrphanLimits limits, SidHash hash = nullptr);

  // Keeps an event whose call is unknown; event_json is append_json(event)
  // of an event for call_sid.
  // The oldest go while more than max_in_memory wait or their text holds
  // more than max_bytes (taken ones counted until they reach the front, as
  // before they were taken), or while the oldest is older than max_wait
  // before this one.
  void keep(std::string_view call_sid, std::string_view event_json, WallTime received);
  // Every orphan waiting for call_sid, oldest first; they stop counting at once.
  std::vector<OrphanEvent> take(const std::string& call_sid);

  std::size_t size() const { return waiting_; }  // kept and not taken
  std::uint64_t let_go() const { return let_go_; }
  std::size_t blocks() const { return blocks_.size(); }  // text blocks held (memory, for tests)
  std::size_t bytes() const { return bytes_; }

  struct Block;
  // What waits, oldest first, as it is at this moment: the blocks are shared,
  // so the views stay valid while the table goes on keeping and letting go.
  struct Picture {
    struct Orphan {
      std::string_view event_json;
      WallTime received;
    };
    std::vector<Orphan> orphans;
    std::vector<std::shared_ptr<const Block>> blocks;
  };
  Picture picture() const;

 private:
  struct Slot {
    std::uint64_t sid_hash;
    std::uint64_t previous;  // arrival number of the one before with this hash; 0: none
    std::uint64_t block;     // number of the block holding the text
    WallTime received;
    const char* text;
    std::uint32_t length;
    bool taken;
  };
  const char* store_text(std::string_view text);
  void let_oldest_go();
  Slot* slot_at(std::uint64_t arrival);

  OrphanLimits limits_;
  SidHash hash_;
  std::deque<Slot> slots_;           // arrival order; slots_[0] arrived as number first_arrival_
  std::uint64_t first_arrival_ = 1;  // 0 means "none" in Slot::previous
  boost::unordered_flat_map<std::uint64_t, std::uint64_t> newest_by_hash_;
  std::deque<std::shared_ptr<Block>> blocks_;  // blocks_[0] is number first_block_
  std::uint64_t first_block_ = 0;
  std::size_t block_used_ = 0;  // bytes used in the last block
  std::size_t waiting_ = 0;
  std::size_t bytes_ = 0;  // text of every slot still held, taken or not (their blocks are held too)
  std::uint64_t let_go_ = 0;
};

}  // namespace callgate::store
