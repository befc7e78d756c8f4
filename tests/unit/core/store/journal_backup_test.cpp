// A backup of a journal being written: whole records only, a record cut
// short at the end left out, a file damaged before its end refused, the
// copy private and never left short under its real name.
#include "core/store/journal_backup.hpp"

#include "core/store/journal_record.hpp"
#include "core/store/journal_repair.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

#include <sys/stat.h>
#include <unistd.h>

using namespace callgate;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  Scratch()
      : path(fs::temp_directory_path() /
             ("callgate-backup-" + std::to_string(::getpid()) + "-" + std::to_string(counter++))) {
    fs::create_directories(path / "journal");
  }
  ~Scratch() { fs::remove_all(path); }
  fs::path path;
  static inline int counter = 0;
};

std::string framed(std::initializer_list<std::string_view> payloads) {
  std::string out;
  for (auto payload : payloads) store::append_journal_record(out, payload);
  return out;
}

void write(const fs::path& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal_backup)

BOOST_AUTO_TEST_CASE(a_journal_being_written_is_copied_as_its_whole_records) {
  Scratch scratch;
  const auto whole = framed({R"({"op":"lead","n":1})", R"({"op":"lead","n":2})"});
  const auto next = framed({R"({"op":"lead","n":3})"});
  // Two records, a third half written, then the room the writer keeps ahead (zeros).
  write(scratch.path / "journal" / "leads.journal", whole + next.substr(0, next.size() / 2) + std::string(4096, '\0'));
  const auto result = store::backup_journal(scratch.path / "journal" / "leads.journal", scratch.path / "backup");
  BOOST_TEST(result.records == 2u);
  BOOST_TEST(result.bytes == whole.size());
  BOOST_TEST(result.tail_dropped > 0u);
  BOOST_TEST(contents(scratch.path / "backup" / "leads.journal") == whole);
  BOOST_TEST(store::inspect_journal(contents(scratch.path / "backup" / "leads.journal")).clean());
  BOOST_TEST(!fs::exists(scratch.path / "backup" / "leads.journal.part"));
  struct stat status {};
  BOOST_TEST_REQUIRE(::stat((scratch.path / "backup").c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0700u);
  BOOST_TEST_REQUIRE(::stat((scratch.path / "backup" / "leads.journal").c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(a_journal_damaged_before_its_end_is_refused_and_nothing_written) {
  Scratch scratch;
  auto bytes = framed({R"({"op":"lead","n":1})", R"({"op":"lead","n":2})", R"({"op":"lead","n":3})"});
  bytes[bytes.size() / 2] ^= 0x40;  // a flipped bit in the middle record
  write(scratch.path / "journal" / "leads.journal", bytes);
  BOOST_CHECK_THROW(store::backup_journal(scratch.path / "journal" / "leads.journal", scratch.path / "backup"),
                    std::runtime_error);
  BOOST_TEST(!fs::exists(scratch.path / "backup" / "leads.journal"));
}

BOOST_AUTO_TEST_CASE(a_missing_journal_or_a_planted_link_is_refused) {
  Scratch scratch;
  BOOST_CHECK_THROW(store::backup_journal(scratch.path / "journal" / "leads.journal", scratch.path / "backup"),
                    std::runtime_error);
  write(scratch.path / "elsewhere", framed({R"({"op":"lead"})"}));
  fs::create_symlink(scratch.path / "elsewhere", scratch.path / "journal" / "leads.journal");
  BOOST_CHECK_THROW(store::backup_journal(scratch.path / "journal" / "leads.journal", scratch.path / "backup"),
                    std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
