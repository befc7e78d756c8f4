#include "core/store/journal_backup.hpp"

#include "core/state_files.hpp"
#include "core/store/journal_repair.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace callgate::store {

namespace fs = std::filesystem;

namespace {

std::string read_whole(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | kStateFileOpenFlags);
  if (fd < 0) throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
  std::string data;
  char block[1 << 16];
  for (;;) {
    const auto got = ::read(fd, block, sizeof block);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const auto why = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("cannot read " + file.string() + ": " + why);
    }
    if (got == 0) break;
    data.append(block, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return data;
}

}  // namespace

BackupResult backup_journal(const fs::path& journal, const fs::path& into) {
  // One read, from one open file: a compaction that renames a new file
  // into place meanwhile leaves this one whole (an older but consistent copy).
  const auto data = read_whole(journal);
  const auto inspection = inspect_journal(data);
  if (!inspection.clean() && !inspection.damaged_only_at_the_end)
    throw std::runtime_error(journal.string() + " is damaged before its end; see callgated --check-journal");
  const auto records = intact_records(data);

  create_private_directories(into);
  BackupResult result;
  result.written = into / journal.filename();
  const auto part = into / (journal.filename().string() + ".part");
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | kStateFileOpenFlags, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + part.string() + ": " + std::strerror(errno));
  const bool written = write_all(fd, records) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code error;
  if (written) fs::rename(part, result.written, error);
  if (!written || error) {
    fs::remove(part, error);
    throw std::runtime_error("cannot write " + result.written.string());
  }
  sync_directory(into);
  result.records = inspection.records;
  result.bytes = records.size();
  result.tail_dropped = inspection.damaged.empty() ? 0 : inspection.damaged.back().length;
  return result;
}

}  // namespace callgate::store
