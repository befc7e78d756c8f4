// Recording files on a real directory: written as they go, finished whole
// and atomically, a crash's part finished at the next start, old ones
// deleted by retention, and nothing followed through a planted symlink.
#include "voice/recording_file.hpp"

#include "little_endian.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/stat.h>

using namespace callgate::voice;
namespace fs = std::filesystem;

namespace {

using callgate::testing::u32_at;

struct Scratch {
  Scratch()
      : path(fs::temp_directory_path() /
             ("callgate-recordings-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))) {}
  ~Scratch() { fs::remove_all(path); }
  fs::path path;
  static inline int counter = 0;
};

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recording_file)

BOOST_AUTO_TEST_CASE(a_recording_is_a_part_file_until_it_is_finished_whole) {
  Scratch scratch;
  auto created = RecordingFile::create(scratch.path / "recordings", "L1-MZ1", RecordingEncoding::pcm16);
  auto* file = std::get_if<std::unique_ptr<RecordingFile>>(&created);
  BOOST_TEST_REQUIRE(file != nullptr);
  const auto part = scratch.path / "recordings" / "L1-MZ1.wav.part";
  BOOST_TEST(fs::exists(part));
  struct stat status {};
  BOOST_TEST_REQUIRE(::stat((scratch.path / "recordings").c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0700u);
  BOOST_TEST_REQUIRE(::stat(part.c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0600u);

  // Three seconds of frames, written in blocks as they fill.
  for (int frame = 0; frame < 150; ++frame) {
    (*file)->block().append(std::string(160 * 4, static_cast<char>(frame)));
    (*file)->write_if_full();
  }
  BOOST_TEST((*file)->block().size() < RecordingFile::kBlockBytes);
  BOOST_TEST(fs::file_size(part) > 44u);  // blocks went out as the call went on
  auto finished = (*file)->finish(150 * 160);
  BOOST_TEST_REQUIRE(finished.index() == 0u);
  BOOST_TEST(std::get<0>(finished) == "L1-MZ1.wav");
  BOOST_TEST(!fs::exists(part));
  const auto bytes = contents(scratch.path / "recordings" / "L1-MZ1.wav");
  BOOST_TEST(bytes.size() == 44u + 150u * 640u);
  BOOST_TEST(u32_at(bytes, 40) == 150u * 640u);  // the header rewritten for the length reached
  BOOST_TEST(static_cast<int>(static_cast<std::uint8_t>(bytes[44 + 149 * 640])) == 149);  // the last frame, in place
}

BOOST_AUTO_TEST_CASE(a_part_left_by_a_crash_is_finished_with_the_whole_frames_it_holds) {
  Scratch scratch;
  {
    auto created = RecordingFile::create(scratch.path, "L2-MZ2", RecordingEncoding::mulaw);
    auto& file = std::get<std::unique_ptr<RecordingFile>>(created);
    file->block().append(std::string(RecordingFile::kBlockBytes + 3, '\x55'));  // a torn last frame
    file->write_if_full();
    // ... and the process dies: no finish().
  }
  std::ofstream(scratch.path / "not-ours.wav.part") << "hello";
  const auto finished = finish_abandoned_recordings(scratch.path);
  BOOST_TEST_REQUIRE(finished.size() == 1u);
  BOOST_TEST(finished[0] == "L2-MZ2.wav");
  const auto bytes = contents(scratch.path / "L2-MZ2.wav");
  const auto frames = (RecordingFile::kBlockBytes + 3) / 2;
  BOOST_TEST(u32_at(bytes, 46) == frames);                     // µ-law's fact chunk: frames
  BOOST_TEST(u32_at(bytes, 54) == frames * 2u);                // data: whole frames only
  BOOST_TEST(fs::exists(scratch.path / "not-ours.wav.part"));  // not a WAV of ours: left alone
}

BOOST_AUTO_TEST_CASE(retention_deletes_only_old_recordings_and_follows_no_links) {
  Scratch scratch;
  fs::create_directories(scratch.path);
  std::ofstream(scratch.path / "old.wav") << "old";
  std::ofstream(scratch.path / "new.wav") << "new";
  std::ofstream(scratch.path / "notes.txt") << "keep";
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(scratch.path / "old.wav", now - std::chrono::hours(24 * 100));
  fs::last_write_time(scratch.path / "notes.txt", now - std::chrono::hours(24 * 100));
  const auto outside = scratch.path / "outside.wav.target";
  std::ofstream(outside) << "someone else's";
  fs::last_write_time(outside, now - std::chrono::hours(24 * 100));
  fs::create_symlink(outside, scratch.path / "link.wav");
  BOOST_TEST(delete_recordings_older_than(scratch.path, now - std::chrono::hours(24 * 90)) == 1u);
  BOOST_TEST(!fs::exists(scratch.path / "old.wav"));
  BOOST_TEST(fs::exists(scratch.path / "new.wav"));
  BOOST_TEST(fs::exists(scratch.path / "notes.txt"));
  BOOST_TEST(fs::exists(outside));
}

BOOST_AUTO_TEST_CASE(a_planted_symlink_at_the_part_name_is_refused) {
  Scratch scratch;
  fs::create_directories(scratch.path);
  const auto target = scratch.path / "victim";
  std::ofstream(target) << "precious";
  fs::create_symlink(target, scratch.path / "L3-MZ3.wav.part");
  auto created = RecordingFile::create(scratch.path, "L3-MZ3", RecordingEncoding::pcm16);
  BOOST_TEST(created.index() == 1u);
  BOOST_TEST(contents(target) == "precious");
}

BOOST_AUTO_TEST_CASE(a_downloaded_recording_is_kept_whole_and_private) {
  Scratch scratch;
  const auto kept = keep_downloaded_recording(scratch.path, "L4-RE1.wav", "RIFF....");
  BOOST_TEST_REQUIRE(kept.index() == 0u);
  BOOST_TEST(contents(scratch.path / "L4-RE1.wav") == "RIFF....");
  struct stat status {};
  BOOST_TEST_REQUIRE(::stat((scratch.path / "L4-RE1.wav").c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0600u);
  BOOST_TEST(!fs::exists(scratch.path / "L4-RE1.wav.part"));
}

BOOST_AUTO_TEST_CASE(names_from_outside_become_file_names_that_stay_in_the_directory) {
  BOOST_TEST(file_name_part("MZ0123abc_-") == "MZ0123abc_-");
  BOOST_TEST(file_name_part("../../etc/passwd") == "etcpasswd");
  BOOST_TEST(file_name_part("exotel:CA1") == "exotelCA1");
  BOOST_TEST(file_name_part("/..:").size() == 16u);  // nothing usable: random
  BOOST_TEST(file_name_part(std::string(100, 'a')).size() == 64u);
  for (const char* good : {"L1-MZ1.wav", "L1-RE1.mp3"}) BOOST_TEST(is_recording_file_name(good), good);
  for (const char* bad : {"", ".wav", "../x.wav", "a/b.wav", "x.txt", "x.wav.part", "x y.wav"})
    BOOST_TEST(!is_recording_file_name(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
