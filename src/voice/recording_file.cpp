#include "voice/recording_file.hpp"

#include "core/crypto.hpp"
#include "core/state_files.hpp"

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace callgate::voice {

namespace fs = std::filesystem;

namespace {

bool write_at(int fd, const std::string& bytes, off_t offset) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto written = ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<off_t>(done));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    done += static_cast<std::size_t>(written);
  }
  return true;
}

}  // namespace

RecordingFile::RecordingFile(int fd, fs::path directory, std::string name, RecordingEncoding encoding)
    : fd_(fd), directory_(std::move(directory)), name_(std::move(name)), encoding_(encoding) {
  // A block and one frame's worth past it, so filling it never reallocates.
  buffer_.reserve(kBlockBytes + 1024);
}

RecordingFile::~RecordingFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::variant<std::unique_ptr<RecordingFile>, std::string> RecordingFile::create(const fs::path& directory,
                                                                                const std::string& name,
                                                                                RecordingEncoding encoding) {
  try {
    create_private_directories(directory);
  } catch (const std::exception& failure) {
    return std::string(failure.what());
  }
  const auto path = directory / (name + ".wav.part");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | kStateFileOpenFlags, 0600);
  if (fd < 0) return "cannot create " + path.string() + ": " + std::strerror(errno);
  std::unique_ptr<RecordingFile> file(new RecordingFile(fd, directory, name, encoding));
  if (!write_all(fd, StereoRecording::header(encoding, 0))) {
    const auto failure = "cannot write " + path.string() + ": " + std::strerror(errno);
    file->abandon();
    return failure;
  }
  return file;
}

void RecordingFile::write_if_full() {
  if (buffer_.size() < kBlockBytes) return;
  if (failed()) {
    buffer_.clear();
    return;
  }
  if (!write_all(fd_, buffer_)) failure_ = std::string("cannot write the recording: ") + std::strerror(errno);
  buffer_.clear();
}

std::variant<std::string, std::string> RecordingFile::finish(std::uint64_t frames) {
  if (!failed() && !buffer_.empty() && !write_all(fd_, buffer_))
    failure_ = std::string("cannot write the recording: ") + std::strerror(errno);
  buffer_.clear();
  // A failed write may have left part of a block: the header counts only
  // the frames the file surely holds.
  if (failed()) {
    struct stat status {};
    const auto header_size = StereoRecording::header(encoding_, 0).size();
    if (::fstat(fd_, &status) == 0 && static_cast<std::size_t>(status.st_size) > header_size)
      frames = std::min<std::uint64_t>(frames, (static_cast<std::uint64_t>(status.st_size) - header_size) /
                                                   StereoRecording::bytes_per_frame(encoding_));
    else
      frames = 0;
  }
  if (!write_at(fd_, StereoRecording::header(encoding_, frames), 0) || ::fsync(fd_) != 0) {
    const auto failure = std::string("cannot finish the recording: ") + std::strerror(errno);
    abandon();
    return std::variant<std::string, std::string>(std::in_place_index<1>, failure);
  }
  ::close(fd_);
  fd_ = -1;
  const auto final_name = name_ + ".wav";
  std::error_code error;
  fs::rename(part_path(), directory_ / final_name, error);
  if (error) {
    fs::remove(part_path(), error);
    return std::variant<std::string, std::string>(std::in_place_index<1>, "cannot rename the recording");
  }
  sync_directory(directory_);
  return std::variant<std::string, std::string>(std::in_place_index<0>, final_name);
}

void RecordingFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ignored;
  fs::remove(part_path(), ignored);
}

namespace {
bool is_name_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
}  // namespace

std::string file_name_part(std::string_view text) {
  std::string safe;
  for (const char c : text.substr(0, 64))
    if (is_name_character(c)) safe.push_back(c);
  return safe.empty() ? random_hex(8) : safe;
}

bool is_recording_file_name(std::string_view name) {
  if (name.size() > 200 || name.starts_with(".") || !(name.ends_with(".wav") || name.ends_with(".mp3"))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_name_character(c) || c == '.'; });
}

std::variant<std::string, std::string> keep_downloaded_recording(const fs::path& directory, const std::string& name,
                                                                 const std::string& bytes) {
  using Result = std::variant<std::string, std::string>;
  try {
    create_private_directories(directory);
  } catch (const std::exception& failure) {
    return Result(std::in_place_index<1>, failure.what());
  }
  const auto part = directory / (name + ".part");
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | kStateFileOpenFlags, 0600);
  if (fd < 0) return Result(std::in_place_index<1>, "cannot create " + part.string() + ": " + std::strerror(errno));
  const bool written = write_all(fd, bytes) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code error;
  if (written) fs::rename(part, directory / name, error);
  if (!written || error) {
    fs::remove(part, error);
    return Result(std::in_place_index<1>, "cannot write " + part.string());
  }
  sync_directory(directory);
  return Result(std::in_place_index<0>, name);
}

std::vector<std::string> finish_abandoned_recordings(const fs::path& directory) {
  std::vector<std::string> finished;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const auto path = entry.path();
    const auto file_name = path.filename().string();
    if (!file_name.ends_with(".wav.part") || !entry.is_regular_file(error) || entry.is_symlink(error)) continue;
    const int fd = ::open(path.c_str(), O_RDWR | kStateFileOpenFlags);
    if (fd < 0) continue;
    char header[22] = {};
    struct stat status {};
    const bool readable = ::pread(fd, header, sizeof header, 0) == static_cast<ssize_t>(sizeof header) &&
                          ::fstat(fd, &status) == 0 && std::memcmp(header, "RIFF", 4) == 0;
    const int tag = static_cast<unsigned char>(header[20]) | (static_cast<unsigned char>(header[21]) << 8);
    if (!readable || (tag != 1 && tag != 7)) {
      ::close(fd);
      continue;  // not one of ours: left alone
    }
    const auto encoding = tag == 1 ? RecordingEncoding::pcm16 : RecordingEncoding::mulaw;
    const auto header_size = StereoRecording::header(encoding, 0).size();
    const auto size = static_cast<std::uint64_t>(status.st_size);
    const auto frames = size > header_size ? (size - header_size) / StereoRecording::bytes_per_frame(encoding) : 0;
    const bool written = write_at(fd, StereoRecording::header(encoding, frames), 0) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) continue;
    const auto name = file_name.substr(0, file_name.size() - 5);  // without ".part"
    fs::rename(path, directory / name, error);
    if (!error) finished.push_back(name);
  }
  if (!finished.empty()) sync_directory(directory);
  return finished;
}

std::size_t delete_recordings_older_than(const fs::path& directory, fs::file_time_type cutoff) {
  std::size_t deleted = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const auto name = entry.path().filename().string();
    if (!name.ends_with(".wav") || entry.is_symlink(error) || !entry.is_regular_file(error)) continue;
    const auto written = entry.last_write_time(error);
    if (error || written >= cutoff) continue;
    if (fs::remove(entry.path(), error)) ++deleted;
  }
  return deleted;
}

}  // namespace callgate::voice
