// The on-disk frame of the embedded journal (and of the webhook spool):
//
//   magic "CGJ1" | payload length (u32 LE) | CRC-32C of length+payload (u32 LE) | payload
//
// The checksum covers the length, so a flipped length bit is caught before
// it sends the reader off into the middle of another record. Pure: encodes
// into and decodes from memory; the file I/O lives with the store.
//
// A journal may end in zero bytes: room its writer laid out ahead of the
// records (journal_writer.hpp), so that a sync flushes data only, not the
// file's size. Zeros from a record boundary to the end are room, not damage.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace callgate::store {

inline constexpr std::size_t kJournalHeaderBytes = 12;
inline constexpr std::uint32_t kJournalMaxPayloadBytes = 16 * 1024 * 1024;

// A writer that overwrites room in place syncs at most this many bytes of
// records at a time (one record larger than this alone). A crash of the
// machine during that sync may leave any of its pages on disk without the
// others, so after a damaged record, good records closer than this can be
// that last, never acknowledged, write; one further on is real damage.
inline constexpr std::size_t kJournalSyncWindowBytes = 1024 * 1024;

// CRC-32C (Castagnoli), the checksum iSCSI and ext4 use; software table.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

// Appends one framed record to out.
void append_journal_record(std::string& out, std::string_view payload);
// The framed size of the first record in frames, which holds whole records
// this process framed (not for reading a file: JournalReader checks).
std::size_t journal_record_size(std::string_view frames);

// Where the first complete record with a good checksum starts at or after
// from (from >= 1 counts from the data's start; at least 1 is searched past
// a damaged record's own header); npos when none does.
std::size_t find_good_record(std::string_view data, std::size_t from);

// bytes without the zeros at its end (room a writer laid out, never data):
// what is worth keeping of a torn tail.
inline std::string_view without_trailing_room(std::string_view bytes) {
  while (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
  return bytes;
}

// Walks a journal's bytes record by record.
class JournalReader {
 public:
  enum class Stop {
    none,       // not stopped: next() may return more records
    clean_end,  // the data ended after a record, or only zeros (room) follow it
    torn_tail,  // the last record is incomplete or fails its checksum at the very end: a crash
                // mid-write. Truncate to valid_bytes() and carry on.
    corrupt,    // a bad record with more data after it: not a torn write; stop and tell the operator
  };

  // sync_window: 0 for a file only ever appended to (a good record anywhere
  // after a damaged one is damage); kJournalSyncWindowBytes for a file its
  // writer keeps room in (see above).
  explicit JournalReader(std::string_view data, std::size_t sync_window = 0) : data_(data), sync_window_(sync_window) {}

  // The next record's payload; false when the walk stopped (see stop()).
  bool next(std::string_view& payload);
  Stop stop() const { return stop_; }
  // Bytes up to the end of the last good record.
  std::size_t valid_bytes() const { return offset_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string_view data_;
  std::size_t sync_window_;
  std::size_t offset_ = 0;
  Stop stop_ = Stop::none;
  std::string reason_;
};

// Walks the records of a file read piece by piece (so a large file is
// never read whole): feed() each piece in order, take records with next().
// A record cut by the end of a piece waits for the next one.
class JournalStream {
 public:
  void feed(std::string_view piece);
  // The next whole record's payload, valid until the next feed(); false when
  // more bytes are needed or the data is damaged (see damaged()).
  bool next(std::string_view& payload);
  // File offset just past the last record next() returned.
  std::uint64_t consumed() const { return base_ + position_; }
  // A bad record with more data after it: not something more bytes can fix.
  bool damaged() const { return damaged_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string buffer_;
  std::size_t position_ = 0;  // within buffer_
  std::uint64_t base_ = 0;    // file offset of buffer_[0]
  bool damaged_ = false;
  std::string reason_;
};

}  // namespace callgate::store
