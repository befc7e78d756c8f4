#include "core/state_files.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace callgate;

namespace {

struct ScratchDirectory {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("callgate-state-" + std::to_string(std::random_device{}()));
  ScratchDirectory() { std::filesystem::create_directories(path); }
  ~ScratchDirectory() { std::filesystem::remove_all(path); }
};

unsigned mode_of(const std::filesystem::path& path) {
  struct stat status {};
  ::stat(path.c_str(), &status);
  return status.st_mode & 07777;
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& failure) {
    return failure.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_files)

BOOST_AUTO_TEST_CASE(directories_are_created_private_and_existing_ones_left_alone) {
  ScratchDirectory scratch;
  const auto old_umask = ::umask(0);  // even a permissive umask gets 0700
  create_private_directories(scratch.path / "a" / "b");
  ::umask(old_umask);
  BOOST_TEST(mode_of(scratch.path / "a") == 0700u);
  BOOST_TEST(mode_of(scratch.path / "a" / "b") == 0700u);
  std::filesystem::create_directory(scratch.path / "open");
  std::filesystem::permissions(scratch.path / "open", std::filesystem::perms(0750));
  create_private_directories(scratch.path / "open");
  BOOST_TEST(mode_of(scratch.path / "open") == 0750u);
  std::ofstream(scratch.path / "file") << "x";
  BOOST_TEST(message_of([&] { create_private_directories(scratch.path / "file"); }).find("not a directory") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_second_lock_on_a_directory_is_refused_with_the_holders_pid) {
  ScratchDirectory scratch;
  {
    DirectoryLock first(scratch.path, "journal.lock", "the journal");
    const auto refused = message_of([&] { DirectoryLock second(scratch.path, "journal.lock", "the journal"); });
    BOOST_TEST(refused.find("the journal in " + scratch.path.string()) != std::string::npos, refused);
    BOOST_TEST(refused.find("pid " + std::to_string(::getpid())) != std::string::npos, refused);
    // Another process is refused the same way.
    const pid_t child = ::fork();
    if (child == 0) {
      try {
        DirectoryLock other(scratch.path, "journal.lock", "the journal");
      } catch (const std::exception&) {
        ::_exit(7);
      }
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST(WEXITSTATUS(status) == 7);
    // A lock of another name in the same directory is another thing.
    DirectoryLock spool(scratch.path, "spool.lock", "the spool");
  }
  // Released with its holder.
  DirectoryLock again(scratch.path, "journal.lock", "the journal");
}

BOOST_AUTO_TEST_CASE(symlinks_are_refused_dangling_or_not) {
  ScratchDirectory scratch;
  std::filesystem::create_symlink(scratch.path / "elsewhere", scratch.path / "leads.journal");
  BOOST_TEST(message_of([&] {
               refuse_symlink(scratch.path / "leads.journal", "the journal");
             }).find("is a symbolic link") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(scratch.path / "elsewhere"));
  BOOST_TEST(message_of([&] { refuse_symlink(scratch.path / "absent", "the journal"); }).empty());
}

BOOST_AUTO_TEST_CASE(bytes_set_aside_land_beside_the_file_private_and_whole) {
  ScratchDirectory scratch;
  const auto file = scratch.path / "leads.journal";
  const auto first = set_aside(file, "torn", std::string("abc\0def", 7));
  const auto second = set_aside(file, "torn", "second");
  BOOST_TEST(first != second);
  BOOST_TEST(first.parent_path() == scratch.path);
  BOOST_TEST(first.filename().string().starts_with("leads.journal.torn-"));
  BOOST_TEST(mode_of(first) == 0600u);
  std::ifstream in(first, std::ios::binary);
  const std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(kept == std::string("abc\0def", 7));
}

BOOST_AUTO_TEST_SUITE_END()
