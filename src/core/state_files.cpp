#include "core/state_files.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace callgate {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void create_private_directories(const std::filesystem::path& path) {
  std::filesystem::path built;
  for (const auto& part : path) {
    built /= part;
    if (part == "/" || part.empty()) continue;
    if (::mkdir(built.c_str(), 0700) == 0) continue;
    if (errno == EEXIST) {
      // An existing directory (or a symlink to one the operator made) is fine.
      if (!std::filesystem::is_directory(built))
        throw std::runtime_error("cannot create the directory " + path.string() + ": " + built.string() +
                                 " exists and is not a directory");
      continue;
    }
    throw std::runtime_error("cannot create the directory " + built.string() + ": " + errno_text());
  }
}

void refuse_symlink(const std::filesystem::path& path, std::string_view what) {
  std::error_code error;
  if (std::filesystem::is_symlink(path, error))
    throw std::runtime_error(std::string(what) + " " + path.string() +
                             " is a symbolic link; callgated does not follow links in its state directory: "
                             "put the file itself there");
}

DirectoryLock::DirectoryLock(const std::filesystem::path& directory, std::string_view name, std::string_view what) {
  const auto path = directory / name;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | kStateFileOpenFlags, 0600);
  if (fd_ < 0)
    throw std::runtime_error("cannot open the lock file " + path.string() + " of " + std::string(what) + ": " +
                             errno_text());
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {};
    const auto got = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    std::string pid = got > 0 ? std::string(holder, static_cast<std::size_t>(got)) : std::string("unknown");
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    if (error == EWOULDBLOCK)
      throw std::runtime_error(
          std::string(what) + " in " + directory.string() + " is in use by another callgated (pid " + pid +
          "); two processes must never share it: stop that one, or give this one a path of its own");
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
  }
  // Only for the message a second process prints: the lock itself is the flock.
  const auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid in it.
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::filesystem::path set_aside(const std::filesystem::path& file, std::string_view why, std::string_view bytes) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &parts);
  const auto base = file.string() + "." + std::string(why) + "-" + stamp;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::filesystem::path target = attempt == 0 ? base : base + "." + std::to_string(attempt);
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | kStateFileOpenFlags, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0)
      throw std::runtime_error("cannot keep the bytes cut from " + file.string() + " in " + target.string() + ": " +
                               errno_text());
    const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
    const auto error = errno_text();
    ::close(fd);
    if (!written)
      throw std::runtime_error("cannot keep the bytes cut from " + file.string() + " in " + target.string() + ": " +
                               error);
    sync_directory(target.parent_path());
    return target;
  }
  throw std::runtime_error("cannot find a free name beside " + file.string() + " for the bytes cut from it");
}

}  // namespace callgate
