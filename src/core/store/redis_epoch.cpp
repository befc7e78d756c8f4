#include "core/store/redis_epoch.hpp"

#include "core/crypto.hpp"
#include "core/state_files.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace callgate::store {

EpochFinding judge_epoch(const std::optional<std::string>& in_redis, std::string_view known_here) {
  if (!in_redis) return known_here.empty() ? EpochFinding::first_use : EpochFinding::lost;
  if (known_here.empty() || *in_redis == known_here) return EpochFinding::same;
  return EpochFinding::lost;
}

std::string read_epoch_file(const std::string& path) {
  if (path.empty()) return {};
  const int fd = ::open(path.c_str(), O_RDONLY | kStateFileOpenFlags);
  if (fd < 0) return {};
  char buffer[128];
  const auto got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (got <= 0) return {};
  std::string epoch(buffer, static_cast<std::size_t>(got));
  while (!epoch.empty() && (epoch.back() == '\n' || epoch.back() == ' ')) epoch.pop_back();
  return epoch;
}

bool write_epoch_file(const std::string& path, std::string_view epoch) {
  if (path.empty()) return false;
  const auto temporary = path + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | kStateFileOpenFlags, 0600);
  if (fd < 0) return false;
  const std::string text = std::string(epoch) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

std::string new_epoch() { return random_hex(16); }

}  // namespace callgate::store
