#include "core/store/journal_record.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace callgate::store {
namespace {

constexpr char kMagic[4] = {'C', 'G', 'J', '1'};

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C: eight bytes a step instead of
// one, which matters on the webhook path (every record is checksummed on a
// reactor). Same value as the table; the caller does the inversions.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  const std::uint8_t* at = bytes.data();
  std::size_t left = bytes.size();
  std::uint64_t wide = crc;
  for (; left >= 8; left -= 8, at += 8) {
    std::uint64_t word;
    std::memcpy(&word, at, sizeof word);
    wide = _mm_crc32_u64(wide, word);
  }
  crc = static_cast<std::uint32_t>(wide);
  for (; left > 0; --left, ++at) crc = _mm_crc32_u8(crc, *at);
  return crc;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::uint32_t get_u32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
  return value;
}

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::uint32_t record_checksum(std::string_view length_bytes, std::string_view payload) {
  return crc32c(as_bytes(payload), crc32c(as_bytes(length_bytes)));
}

// Where the first complete, valid record starts at or after offset from
// (at least 1); npos if none does.
std::size_t good_record_after(std::string_view rest, std::size_t from) {
  for (std::size_t at = rest.find(std::string_view(kMagic, sizeof kMagic), std::max<std::size_t>(from, 1));
       at != std::string_view::npos; at = rest.find(std::string_view(kMagic, sizeof kMagic), at + 1)) {
    const std::string_view candidate = rest.substr(at);
    if (candidate.size() < kJournalHeaderBytes) return std::string_view::npos;
    const std::uint32_t length = get_u32(candidate.substr(4, 4));
    if (length > candidate.size() - kJournalHeaderBytes) continue;
    if (record_checksum(candidate.substr(4, 4), candidate.substr(kJournalHeaderBytes, length)) ==
        get_u32(candidate.substr(8, 4)))
      return at;
  }
  return std::string_view::npos;
}

bool all_zero(std::string_view bytes) {  // true for none
  return std::all_of(bytes.begin(), bytes.end(), [](char byte) { return byte == '\0'; });
}

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__)
  if (kHasSse42) return ~crc32c_sse42(bytes, crc);
#endif
  for (const auto byte : bytes) crc = kCrc32cTable[(crc ^ byte) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void append_journal_record(std::string& out, std::string_view payload) {
  const auto start = out.size();
  out.append(kMagic, sizeof kMagic);
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  const std::string length_bytes = out.substr(start + 4, 4);
  put_u32(out, record_checksum(length_bytes, payload));
  out.append(payload);
}

std::size_t journal_record_size(std::string_view frames) { return kJournalHeaderBytes + get_u32(frames.substr(4, 4)); }

std::size_t find_good_record(std::string_view data, std::size_t from) { return good_record_after(data, from); }

bool JournalReader::next(std::string_view& payload) {
  if (stop_ != Stop::none) return false;
  const std::string_view rest = data_.substr(offset_);
  auto stop_with = [&](Stop stop, std::string reason) {
    stop_ = stop;
    reason_ = std::move(reason);
    return false;
  };
  if (rest.empty() || (rest[0] == '\0' && all_zero(rest))) return stop_with(Stop::clean_end, "");
  if (rest.size() < kJournalHeaderBytes) {
    // A header cut short can only be the tail, but it must at least start
    // like one: anything else is not a journal written by callgate.
    if (std::memcmp(rest.data(), kMagic, std::min(rest.size(), sizeof kMagic)) != 0)
      return stop_with(Stop::corrupt, "bad magic at offset " + std::to_string(offset_));
    return stop_with(Stop::torn_tail, "record header cut short at offset " + std::to_string(offset_));
  }
  // A header of zeros is room a crash left unwritten while a later page of
  // the same write reached the disk (only a file with room has that); any
  // other wrong magic was not written by callgate.
  const bool unwritten_header = sync_window_ > 0 && all_zero(rest.substr(0, sizeof kMagic));
  if (std::memcmp(rest.data(), kMagic, sizeof kMagic) != 0 && !unwritten_header)
    return stop_with(Stop::corrupt, "bad magic at offset " + std::to_string(offset_));
  const std::uint32_t length = get_u32(rest.substr(4, 4));
  const std::uint32_t checksum = get_u32(rest.substr(8, 4));
  const bool fits = length <= kJournalMaxPayloadBytes && rest.size() - kJournalHeaderBytes >= length;
  if (unwritten_header || !fits ||
      record_checksum(rest.substr(4, 4), rest.substr(kJournalHeaderBytes, length)) != checksum) {
    // With no good record after it, a bad record is the write a crash cut
    // short, whatever its length field now says. A good record after it
    // means the damage is inside what was written and acknowledged (a run
    // of zeros, a flipped bit): that is reported, never cut off as a tail,
    // however close to the end it is. (A machine that loses power mid-sync
    // can, rarely, leave a later page of its last write without an earlier
    // one; that too stops here, and callgated --repair-journal keeps every
    // good record and sets the rest aside.)
    if (good_record_after(rest, 1) == std::string_view::npos)
      return stop_with(Stop::torn_tail, "incomplete last record at offset " + std::to_string(offset_));
    return stop_with(Stop::corrupt, "damaged record at offset " + std::to_string(offset_));
  }
  payload = rest.substr(kJournalHeaderBytes, length);
  offset_ += kJournalHeaderBytes + length;
  return true;
}

void JournalStream::feed(std::string_view piece) {
  buffer_.erase(0, position_);
  base_ += position_;
  position_ = 0;
  buffer_.append(piece);
}

bool JournalStream::next(std::string_view& payload) {
  if (damaged_) return false;
  JournalReader reader(std::string_view(buffer_).substr(position_));
  if (reader.next(payload)) {
    position_ += reader.valid_bytes();
    return true;
  }
  if (reader.stop() == JournalReader::Stop::corrupt) {
    damaged_ = true;
    reason_ = reader.reason() + " (counted from file offset " + std::to_string(consumed()) + ")";
  }
  return false;
}

bool all_zero(std::string_view bytes) {  // true for none
  return std::all_of(bytes.begin(), bytes.end(), [](char byte) { return byte == '\0'; });
}

}  // namespace callgate::store
