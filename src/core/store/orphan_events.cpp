#include "core/store/orphan_events.hpp"

#include "core/lead/lead_json.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace callgate::store {

namespace {

// Large enough that a block holds a few hundred orphans (one allocation and
// one free for all of them), small enough that the last one let go returns
// its memory soon.
constexpr std::size_t kBlockBytes = 64 * 1024;

std::uint64_t standard_sid_hash(std::string_view call_sid) { return std::hash<std::string_view>{}(call_sid); }

}  // namespace

// Only ever written where no view points yet (past block_used_), so a
// picture's views and the table's appends never touch the same bytes.
struct OrphanEvents::Block {
  explicit Block(std::size_t size) : bytes(new char[size]), capacity(size) {}
  std::unique_ptr<char[]> bytes;
  std::size_t capacity;
};

OrphanEvents::OrphanEvents(OrphanLimits limits, SidHash hash)
    : limits_(limits), hash_(hash ? hash : &standard_sid_hash) {}

const char* OrphanEvents::store_text(std::string_view text) {
  if (blocks_.empty() || block_used_ + text.size() > blocks_.back()->capacity) {
    blocks_.push_back(std::make_shared<Block>(std::max(kBlockBytes, text.size())));
    block_used_ = 0;
  }
  char* at = blocks_.back()->bytes.get() + block_used_;
  if (!text.empty()) std::memcpy(at, text.data(), text.size());
  block_used_ += text.size();
  return at;
}

OrphanEvents::Slot* OrphanEvents::slot_at(std::uint64_t arrival) {
  if (arrival < first_arrival_ || arrival - first_arrival_ >= slots_.size()) return nullptr;
  return &slots_[static_cast<std::size_t>(arrival - first_arrival_)];
}

void OrphanEvents::keep(std::string_view call_sid, std::string_view event_json, WallTime received) {
  const auto hash = hash_(call_sid);
  const auto arrival = first_arrival_ + slots_.size();
  const char* text = store_text(event_json);
  const auto block = first_block_ + blocks_.size() - 1;
  auto [newest, inserted] = newest_by_hash_.try_emplace(hash, arrival);
  const std::uint64_t previous = inserted ? 0 : std::exchange(newest->second, arrival);
  slots_.push_back({hash, previous, block, received, text, static_cast<std::uint32_t>(event_json.size()), false});
  ++waiting_;
  bytes_ += event_json.size();
  while (!slots_.empty()) {
    const auto& oldest = slots_.front();
    const bool too_many = slots_.size() > limits_.max_in_memory || bytes_ > limits_.max_bytes;
    const bool too_old = oldest.received + limits_.max_wait < received;
    if (!too_many && !too_old) break;
    let_oldest_go();
  }
}

void OrphanEvents::let_oldest_go() {
  const auto& oldest = slots_.front();
  // The index names the newest with this hash: once that one goes, every
  // older one with the same hash has gone before it.
  if (auto newest = newest_by_hash_.find(oldest.sid_hash);
      newest != newest_by_hash_.end() && newest->second == first_arrival_)
    newest_by_hash_.erase(newest);
  if (!oldest.taken) {
    --waiting_;
    ++let_go_;
  }
  bytes_ -= oldest.length;
  slots_.pop_front();
  ++first_arrival_;
  // Blocks before the oldest one still in use are done with (the last
  // block stays, to go on writing into).
  const auto keep_from = slots_.empty() ? first_block_ + blocks_.size() - 1 : slots_.front().block;
  while (first_block_ < keep_from) {
    blocks_.pop_front();
    ++first_block_;
  }
}

std::vector<OrphanEvent> OrphanEvents::take(const std::string& call_sid) {
  std::vector<OrphanEvent> taken;
  auto newest = newest_by_hash_.find(hash_(call_sid));
  if (newest == newest_by_hash_.end()) return taken;
  bool others_wait = false;  // orphans of other call sids with the same hash
  for (auto* slot = slot_at(newest->second); slot; slot = slot_at(slot->previous)) {
    if (slot->taken) continue;
    boost::system::error_code error;
    const auto value = parse_stored_json(std::string_view(slot->text, slot->length), error);
    auto event = error ? std::nullopt : call_event_from_json(value);
    if (!event || event->call_sid != call_sid) {
      others_wait = true;
      continue;
    }
    slot->taken = true;
    --waiting_;
    taken.push_back({std::move(*event), slot->received});
  }
  if (!others_wait) newest_by_hash_.erase(newest);
  std::reverse(taken.begin(), taken.end());
  return taken;
}

OrphanEvents::Picture OrphanEvents::picture() const {
  Picture picture;
  picture.blocks.assign(blocks_.begin(), blocks_.end());
  picture.orphans.reserve(waiting_);
  for (const auto& slot : slots_)
    if (!slot.taken) picture.orphans.push_back({std::string_view(slot.text, slot.length), slot.received});
  return picture;
}

}  // namespace callgate::store
