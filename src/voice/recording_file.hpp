// A recording written as the call goes: "<name>.wav.part" (0600) with a
// header for no data yet, audio appended in blocks, and at the end the
// header rewritten for the length reached, the file synced and renamed to
// "<name>.wav". A reader therefore sees a complete WAV or none; a crash
// leaves a ".part" that start-up finishes (finish_abandoned_recordings).
//
// Blocking file I/O: appends go to the page cache (a block every half
// second of a call); finish() syncs and is run off the reactors.
#pragma once

#include "core/voice/stereo_recording.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace callgate::voice {

class RecordingFile {
 public:
  // Creates directory (0700) if missing and the part file; why not, when it cannot.
  static std::variant<std::unique_ptr<RecordingFile>, std::string> create(const std::filesystem::path& directory,
                                                                          const std::string& name,
                                                                          RecordingEncoding encoding);
  ~RecordingFile();
  RecordingFile(const RecordingFile&) = delete;
  RecordingFile& operator=(const RecordingFile&) = delete;

  // The block being filled: audio is appended here, then write_if_full()
  // writes it once it holds kBlockBytes. A failed write (full disk) stops
  // the recording, never the call: failed() tells.
  std::string& block() { return buffer_; }
  void write_if_full();
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  std::uint64_t bytes_buffered() const { return buffer_.size(); }

  // Writes what is buffered and the final header for frames, syncs, and
  // renames the file to its final name; the file name, or why not (the part
  // file is then removed).
  std::variant<std::string, std::string> finish(std::uint64_t frames);
  // Removes the part file (nothing worth keeping was recorded).
  void abandon();

  // Half a second of PCM16 stereo: two writes a second a call.
  static constexpr std::size_t kBlockBytes = 16 * 1024;

 private:
  RecordingFile(int fd, std::filesystem::path directory, std::string name, RecordingEncoding encoding);
  std::filesystem::path part_path() const { return directory_ / (name_ + ".wav.part"); }

  int fd_ = -1;
  std::filesystem::path directory_;
  std::string name_;
  RecordingEncoding encoding_;
  std::string buffer_;
  std::string failure_;
};

// A recording downloaded whole (a provider's), kept as directory/name:
// written to a ".part" (0600), synced, renamed. The name, or why not.
std::variant<std::string, std::string> keep_downloaded_recording(const std::filesystem::path& directory,
                                                                 const std::string& name, const std::string& bytes);

// Text from outside (a provider's sid) as part of a file name: letters,
// digits, '-' and '_' only, at most 64 of them; random hex when none is left.
std::string file_name_part(std::string_view text);

// Whether name can be a recording callgate wrote (what a lead may name):
// one of file_name_part's characters and dots, ".wav" or ".mp3", no path.
bool is_recording_file_name(std::string_view name);

// Start-up: a ".part" left by a crash is completed from its size (the
// header counted for the whole frames it holds) and renamed, so the audio
// up to the crash is kept. Returns the names finished.
std::vector<std::string> finish_abandoned_recordings(const std::filesystem::path& directory);

// Deletes recordings (".wav") last written before cutoff; returns how many.
std::size_t delete_recordings_older_than(const std::filesystem::path& directory,
                                         std::filesystem::file_time_type cutoff);

}  // namespace callgate::voice
