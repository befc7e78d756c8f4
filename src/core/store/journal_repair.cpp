#include "core/store/journal_repair.hpp"

#include "core/state_files.hpp"
#include "core/store/journal_record.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace callgate::store {

namespace {

// Calls record(offset, framed bytes) for each intact record and damage(offset,
// length) for each stretch between them that is not room at the end.
template <class OnRecord, class OnDamage>
void walk(std::string_view data, OnRecord record, OnDamage damage) {
  std::size_t offset = 0;
  while (offset < data.size()) {
    JournalReader reader(data.substr(offset));
    std::string_view payload;
    while (reader.next(payload)) {
      const auto end = reader.valid_bytes();
      const auto size = kJournalHeaderBytes + payload.size();
      record(offset + end - size, data.substr(offset + end - size, size));
    }
    offset += reader.valid_bytes();
    if (reader.stop() == JournalReader::Stop::clean_end) return;
    // Damaged (or torn): skip to the next intact record, or to the end.
    const auto next = find_good_record(data.substr(offset), 1);
    const auto stretch_end = next == std::string_view::npos ? data.size() : offset + next;
    // Zeros are damage anywhere but at the very end, where they are room.
    const auto stretch = data.substr(offset, stretch_end - offset);
    const auto kept = next == std::string_view::npos ? without_trailing_room(stretch) : stretch;
    if (!kept.empty()) damage(offset, kept.size());
    offset = stretch_end;
  }
}

std::string read_whole(const std::filesystem::path& path) {
  refuse_symlink(path, "the file");
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

void write_synced(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | kStateFileOpenFlags, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("cannot write " + path.string() + ": " + reason);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  const bool synced = ::fsync(fd) == 0;
  const std::string reason = std::strerror(errno);
  ::close(fd);
  if (!synced) throw std::runtime_error("cannot sync " + path.string() + ": " + reason);
}

}  // namespace

JournalInspection inspect_journal(std::string_view data) {
  JournalInspection inspection;
  std::uint64_t last_record_end = 0;
  walk(
      data,
      [&](std::size_t offset, std::string_view framed) {
        ++inspection.records;
        inspection.record_bytes += framed.size();
        last_record_end = offset + framed.size();
      },
      [&](std::size_t offset, std::size_t length) {
        inspection.damaged.push_back({offset, length});
      });
  inspection.damaged_only_at_the_end =
      inspection.damaged.size() == 1 && inspection.damaged.front().offset >= last_record_end;
  return inspection;
}

std::string intact_records(std::string_view data) {
  std::string out;
  walk(
      data, [&](std::size_t, std::string_view framed) { out.append(framed); }, [](std::size_t, std::size_t) {});
  return out;
}

RepairResult repair_journal(const std::filesystem::path& path) {
  const auto data = read_whole(path);
  RepairResult result;
  result.inspection = inspect_journal(data);
  if (result.inspection.clean()) return result;
  std::string damaged;
  for (const auto& stretch : result.inspection.damaged) damaged.append(data, stretch.offset, stretch.length);
  // Both copies first: whatever happens after, nothing is lost.
  result.original_kept_in = set_aside(path, "before-repair", data);
  result.damaged_kept_in = set_aside(path, "damaged", damaged);
  const auto temporary = path.string() + ".repairing";
  write_synced(temporary, intact_records(data));
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot put the repaired file in place of " + path.string() + ": " + reason);
  }
  const auto directory = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return result;
}

std::string describe(const JournalInspection& inspection, const std::filesystem::path& path) {
  std::ostringstream out;
  out << path.string() << ": " << inspection.records << " intact records (" << inspection.record_bytes << " bytes)";
  if (inspection.clean()) {
    out << ", no damage\n";
    return out.str();
  }
  out << ", " << inspection.damaged.size() << " damaged stretch" << (inspection.damaged.size() == 1 ? "" : "es")
      << ":\n";
  for (const auto& stretch : inspection.damaged)
    out << "  bytes " << stretch.offset << " to " << stretch.offset + stretch.length << " (" << stretch.length
        << " bytes)\n";
  if (inspection.damaged_only_at_the_end)
    out << "Only the end is damaged. A write a crash cut short is cut off at start (and kept beside the file); "
           "anything else there (bytes callgate did not write) stops the start, and callgated --repair-journal "
        << path.string() << " sets it aside.\n";
  else
    out << "callgated will not start on this file. callgated --repair-journal " << path.string()
        << " keeps every intact record and sets the damaged bytes and the original aside beside it.\n";
  return out.str();
}

}  // namespace callgate::store
