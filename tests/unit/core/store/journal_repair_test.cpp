#include "core/store/journal_repair.hpp"
#include "core/store/journal_record.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <random>

using namespace callgate;
using namespace callgate::store;

namespace {

std::string journal_of(std::initializer_list<std::string_view> payloads) {
  std::string data;
  for (const auto payload : payloads) store::append_journal_record(data, payload);
  return data;
}

std::vector<std::string> payloads_of(std::string_view data) {
  std::vector<std::string> out;
  store::JournalReader reader(data);
  std::string_view payload;
  while (reader.next(payload)) out.emplace_back(payload);
  BOOST_TEST((reader.stop() == store::JournalReader::Stop::clean_end));
  return out;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal_repair)

BOOST_AUTO_TEST_CASE(a_clean_journal_with_room_at_the_end_is_clean) {
  const auto data = journal_of({"one", "two"}) + std::string(4096, '\0');
  const auto inspection = store::inspect_journal(data);
  BOOST_TEST(inspection.clean());
  BOOST_TEST(inspection.records == 2u);
}

BOOST_AUTO_TEST_CASE(every_damaged_stretch_is_found_and_every_intact_record_kept) {
  const auto head = journal_of({"one", "two"});
  const auto middle = journal_of({"three"});
  const auto tail = journal_of({"four", "five"});
  std::string data = head + std::string(64, '\0') + middle;  // zeros inside: damage
  const auto flipped_at = data.size();
  std::string flipped = journal_of({"lost"});
  flipped[14] ^= 0x20;  // a bit flipped in the payload
  data += flipped + tail;
  const auto inspection = store::inspect_journal(data);
  BOOST_TEST(inspection.records == 5u);
  BOOST_TEST_REQUIRE(inspection.damaged.size() == 2u);
  BOOST_TEST(inspection.damaged[0].offset == head.size());
  BOOST_TEST(inspection.damaged[0].length == 64u);
  BOOST_TEST(inspection.damaged[1].offset == flipped_at);
  BOOST_TEST(inspection.damaged[1].length == flipped.size());
  BOOST_TEST(!inspection.damaged_only_at_the_end);
  BOOST_TEST(payloads_of(store::intact_records(data)) ==
             (std::vector<std::string>{"one", "two", "three", "four", "five"}));
}

BOOST_AUTO_TEST_CASE(a_torn_tail_alone_is_said_to_be_one) {
  auto data = journal_of({"one", "two"});
  const auto torn = journal_of({"three"});
  data += torn.substr(0, torn.size() - 2) + std::string(100, '\0');
  const auto inspection = store::inspect_journal(data);
  BOOST_TEST(inspection.records == 2u);
  BOOST_TEST_REQUIRE(inspection.damaged.size() == 1u);
  BOOST_TEST(inspection.damaged[0].length == torn.size() - 2);
  BOOST_TEST(inspection.damaged_only_at_the_end);
}

BOOST_AUTO_TEST_CASE(a_repair_keeps_the_original_and_the_damage_beside_the_file) {
  const auto directory =
      std::filesystem::temp_directory_path() / ("callgate-repair-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(directory);
  const auto file = directory / "leads.journal";
  const auto data = journal_of({"one"}) + std::string(4096, '\0') + journal_of({"two"});
  std::ofstream(file, std::ios::binary) << data;

  const auto result = store::repair_journal(file);
  BOOST_TEST(result.inspection.records == 2u);
  BOOST_TEST(payloads_of(read(file)) == (std::vector<std::string>{"one", "two"}));
  BOOST_TEST(read(result.original_kept_in) == data);
  BOOST_TEST(read(result.damaged_kept_in) == std::string(4096, '\0'));
  BOOST_TEST(!std::filesystem::exists(file.string() + ".repairing"));
  // Repairing again finds nothing to do and writes nothing.
  const auto again = store::repair_journal(file);
  BOOST_TEST(again.inspection.clean());
  BOOST_TEST(again.original_kept_in.empty());
  std::filesystem::remove_all(directory);
}

BOOST_AUTO_TEST_SUITE_END()
