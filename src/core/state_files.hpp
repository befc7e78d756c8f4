// The files callgated keeps on disk (journal, spool, the embedded dialer's
// jobs) and what guards them from a careless operator or a second process:
// directories made private (0700), files opened without following symlinks,
// one process per directory (an flock held for the store's lifetime), and
// bytes that must be cut from a file kept beside it first.
#pragma once

#include <filesystem>

#include <fcntl.h>
#include <string>
#include <string_view>

namespace callgate {

// Creates path and any missing parents with mode 0700; directories that
// exist are left as they are. Throws std::runtime_error naming the path.
void create_private_directories(const std::filesystem::path& path);

// Open flags for every state file: a symlink planted at a state file's name
// (or left dangling by a restore) is refused, never followed.
inline constexpr int kStateFileOpenFlags = O_NOFOLLOW | O_CLOEXEC;

// Writes all of bytes (retrying short writes and EINTR); false on an error.
bool write_all(int fd, std::string_view bytes);
// Makes a rename or a new file in directory durable; errors are ignored
// (a directory that cannot be opened has nothing of ours to sync).
void sync_directory(const std::filesystem::path& directory);

// Throws std::runtime_error when path is a symlink (dangling or not): state
// files are read and written only under their own names.
void refuse_symlink(const std::filesystem::path& path, std::string_view what);

// An exclusive lock on directory/name, held until destruction. A second
// holder, in this process or another, is refused at once with a message
// naming the directory, what it holds and the holder's pid.
class DirectoryLock {
 public:
  // what: the directory's role in the message, e.g. "the journal".
  DirectoryLock(const std::filesystem::path& directory, std::string_view name, std::string_view what);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// Writes bytes to a new file beside file, named file.why-YYYYMMDDTHHMMSSZ
// (with a counter if taken), 0600 and synced; returns its path. Called
// before anything is cut from file, so nothing is ever lost by a cut.
// Throws std::runtime_error when the copy cannot be made.
std::filesystem::path set_aside(const std::filesystem::path& file, std::string_view why, std::string_view bytes);

}  // namespace callgate
