// A consistent copy of a journal, taken while its daemon runs
// (callgated --backup DIR). The daemon only ever appends, and renames a
// compacted file into place (never rewrites one): the bytes read from the
// file at any moment are whole records, then perhaps one being written.
// The copy keeps the whole records, and refuses a file damaged before its
// end, so a backup replays exactly as a restart after the last of its
// records would.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace callgate::store {

struct BackupResult {
  std::filesystem::path written;   // the copy
  std::uint64_t records = 0;       // whole records in it
  std::uint64_t bytes = 0;         // its size
  std::uint64_t tail_dropped = 0;  // bytes of a record still being written, left out
};

// Copies journal's whole records to into/<journal's file name> (0600, into
// made 0700 if missing), written under a temporary name, synced, then
// renamed, so an interrupted backup never leaves a short copy under the
// real name. Throws std::runtime_error (naming the file) when journal
// cannot be read, is damaged before its end, or the copy cannot be written.
BackupResult backup_journal(const std::filesystem::path& journal, const std::filesystem::path& into);

}  // namespace callgate::store
