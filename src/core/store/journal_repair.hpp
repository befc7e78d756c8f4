// What an operator does with a journal (or spool, or dialer journal) that
// callgated refused to start on: --check-journal reports every damaged
// stretch; --repair-journal rewrites the file with every intact record, in
// order, after keeping the damaged bytes and the original file beside it.
// Nothing is guessed and nothing is thrown away.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::store {

struct DamagedStretch {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct JournalInspection {
  std::uint64_t records = 0;             // intact records, wherever they are
  std::uint64_t record_bytes = 0;        // their framed bytes
  std::vector<DamagedStretch> damaged;   // stretches no intact record covers (room at the end excluded)
  bool damaged_only_at_the_end = false;  // one stretch, nothing intact after it: a torn tail, which a start cuts itself
  bool clean() const { return damaged.empty(); }
};

// Pure: walks bytes, skipping from each damaged place to the next intact record.
JournalInspection inspect_journal(std::string_view data);

// The intact records of data, framed, in order (what a repair writes).
std::string intact_records(std::string_view data);

struct RepairResult {
  JournalInspection inspection;
  std::filesystem::path original_kept_in;  // the file as it was, byte for byte
  std::filesystem::path damaged_kept_in;   // the damaged stretches, one after another
};

// Rewrites path with its intact records (synced, then renamed into place)
// after keeping the original and the damaged bytes beside it. Nothing is
// done to a clean file. Throws std::runtime_error on any failure, leaving
// path as it was. The caller holds the directory's lock.
RepairResult repair_journal(const std::filesystem::path& path);

// A human-readable report of an inspection, for --check-journal.
std::string describe(const JournalInspection& inspection, const std::filesystem::path& path);

}  // namespace callgate::store
