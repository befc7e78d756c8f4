#include "core/store/journal_record.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

using namespace callgate;
using namespace callgate::store;

namespace {

std::vector<std::string> read_all(std::string_view data, store::JournalReader::Stop& stop, std::size_t& valid) {
  store::JournalReader reader(data);
  std::vector<std::string> payloads;
  std::string_view payload;
  while (reader.next(payload)) payloads.emplace_back(payload);
  stop = reader.stop();
  valid = reader.valid_bytes();
  return payloads;
}

std::string journal_of(std::initializer_list<std::string_view> payloads) {
  std::string out;
  for (auto payload : payloads) store::append_journal_record(out, payload);
  return out;
}

// A machine crash during the last sync of a file with room: its first page
// never reached the disk (still zeros), a later one did.
std::string torn_write_with_a_later_page_on_disk(std::size_t gap) {
  auto data = journal_of({"acknowledged"});
  data += std::string(gap, '\0');
  store::append_journal_record(data, "never acknowledged");
  return data + std::string(1000, '\0');
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal_record)

BOOST_AUTO_TEST_CASE(crc32c_matches_the_standard_check_value) {
  const std::string_view check = "123456789";
  BOOST_TEST(crc32c({reinterpret_cast<const std::uint8_t*>(check.data()), check.size()}) == 0xE3069283u);
}

BOOST_AUTO_TEST_CASE(crc32c_agrees_with_the_polynomial_bit_by_bit_at_every_length_and_seed) {
  // The definition, one bit at a time: what the table and the CPU's crc32
  // instruction (used where there is one) must both give.
  auto reference = [](const std::vector<std::uint8_t>& bytes, std::uint32_t seed) {
    std::uint32_t crc = ~seed;
    for (const auto byte : bytes) {
      crc ^= byte;
      for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
  };
  std::mt19937 random(7);
  for (std::size_t length = 0; length < 100; ++length) {
    std::vector<std::uint8_t> bytes(length);
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(random());
    const auto seed = static_cast<std::uint32_t>(random());
    BOOST_TEST(crc32c(bytes, seed) == reference(bytes, seed), "length " << length);
    // In two pieces, chained through the seed, as record checksums are.
    const auto half = length / 2;
    BOOST_TEST(crc32c(std::span(bytes).subspan(half), crc32c(std::span(bytes).first(half), seed)) ==
               reference(bytes, seed));
  }
}

BOOST_AUTO_TEST_CASE(records_read_back_as_written) {
  const std::string binary("a\0b\xff", 4);
  const auto data = journal_of({"first", "", binary, std::string(100'000, 'x')});
  store::JournalReader::Stop stop;
  std::size_t valid = 0;
  const auto payloads = read_all(data, stop, valid);
  BOOST_TEST_REQUIRE(payloads.size() == 4u);
  BOOST_TEST(payloads[0] == "first");
  BOOST_TEST(payloads[1] == "");
  BOOST_TEST(payloads[2] == binary);
  BOOST_TEST(payloads[3].size() == 100'000u);
  BOOST_TEST((stop == store::JournalReader::Stop::clean_end));
  BOOST_TEST(valid == data.size());
}

BOOST_AUTO_TEST_CASE(a_tail_cut_anywhere_is_torn_and_never_misread) {
  const auto whole = journal_of({"one", "two", "three-is-longer"});
  const auto two_records = journal_of({"one", "two"}).size();
  for (std::size_t cut = two_records + 1; cut < whole.size(); ++cut) {
    store::JournalReader::Stop stop;
    std::size_t valid = 0;
    const auto payloads = read_all(std::string_view(whole).substr(0, cut), stop, valid);
    BOOST_TEST_REQUIRE(payloads.size() == 2u, "cut at " << cut);
    BOOST_TEST((stop == store::JournalReader::Stop::torn_tail), "cut at " << cut);
    BOOST_TEST(valid == two_records);
  }
}

BOOST_AUTO_TEST_CASE(garbage_at_the_tail_is_torn) {
  auto data = journal_of({"one"});
  const auto good = data.size();
  store::append_journal_record(data, "two");
  data[data.size() - 1] ^= 0x01;  // the last write went wrong
  store::JournalReader::Stop stop;
  std::size_t valid = 0;
  BOOST_TEST(read_all(data, stop, valid).size() == 1u);
  BOOST_TEST((stop == store::JournalReader::Stop::torn_tail));
  BOOST_TEST(valid == good);
}

BOOST_AUTO_TEST_CASE(damage_before_good_records_is_corruption_not_a_tail) {
  for (const std::size_t flip : {std::size_t{5}, std::size_t{9}, std::size_t{13}}) {  // length, checksum, payload
    auto data = journal_of({"one", "two", "three"});
    data[flip] ^= 0x40;
    store::JournalReader::Stop stop;
    std::size_t valid = 0;
    BOOST_TEST(read_all(data, stop, valid).empty(), "flip at " << flip);
    BOOST_TEST((stop == store::JournalReader::Stop::corrupt), "flip at " << flip);
    BOOST_TEST(valid == 0u);
  }
}

BOOST_AUTO_TEST_CASE(zeros_after_the_last_record_are_room_not_damage) {
  const auto records = journal_of({"one", "two"});
  for (const std::size_t window : {std::size_t{0}, store::kJournalSyncWindowBytes}) {
    const auto data = records + std::string(70'000, '\0');
    store::JournalReader reader(data, window);
    std::string_view payload;
    int count = 0;
    while (reader.next(payload)) ++count;
    BOOST_TEST(count == 2);
    BOOST_TEST((reader.stop() == store::JournalReader::Stop::clean_end));
    BOOST_TEST(reader.valid_bytes() == records.size());
  }
}

// Zeros inside the last MiB of a journal used to be taken for a torn last
// write and cut off in place, taking acknowledged records after them along
// (issue 18, defect 15). A good record after damage now always stops the read.
BOOST_AUTO_TEST_CASE(zeros_followed_by_a_good_record_are_damage_however_close_to_the_end) {
  for (const std::size_t gap : {std::size_t{8}, std::size_t{64}, std::size_t{512}, std::size_t{4096}}) {
    const auto data = torn_write_with_a_later_page_on_disk(gap);
    for (const std::size_t window : {std::size_t{0}, store::kJournalSyncWindowBytes}) {
      store::JournalReader reader(data, window);
      std::string_view payload;
      BOOST_TEST_REQUIRE(reader.next(payload));
      BOOST_TEST(payload == "acknowledged");
      BOOST_TEST(!reader.next(payload));
      BOOST_TEST((reader.stop() == store::JournalReader::Stop::corrupt), "gap " << gap << " window " << window);
    }
  }
}

BOOST_AUTO_TEST_CASE(in_a_file_with_room_damage_is_still_damage) {
  store::JournalReader::Stop stop;
  std::size_t valid = 0;
  // A flipped byte leaves no unwritten room before the good records after it.
  auto flipped = journal_of({"one", "two", "three"});
  flipped[13] ^= 0x40;
  store::JournalReader reader(flipped, store::kJournalSyncWindowBytes);
  std::string_view payload;
  BOOST_TEST(!reader.next(payload));
  BOOST_TEST((reader.stop() == store::JournalReader::Stop::corrupt));
  // Good records further on than one sync can write were acknowledged long
  // ago: whatever lies before them is damage, zeros or not.
  const auto far = torn_write_with_a_later_page_on_disk(store::kJournalSyncWindowBytes + 1);
  BOOST_TEST(read_all(far, stop, valid).size() == 1u);
  store::JournalReader far_reader(far, store::kJournalSyncWindowBytes);
  while (far_reader.next(payload)) {
  }
  BOOST_TEST((far_reader.stop() == store::JournalReader::Stop::corrupt));
  // Text that is not a journal is not room either.
  store::JournalReader text("hello, world, this is not a journal", store::kJournalSyncWindowBytes);
  BOOST_TEST(!text.next(payload));
  BOOST_TEST((text.stop() == store::JournalReader::Stop::corrupt));
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_journal_is_corrupt) {
  store::JournalReader::Stop stop;
  std::size_t valid = 0;
  BOOST_TEST(read_all("hello, world, this is not a journal", stop, valid).empty());
  BOOST_TEST((stop == store::JournalReader::Stop::corrupt));
  BOOST_TEST(read_all("xy", stop, valid).empty());
  BOOST_TEST((stop == store::JournalReader::Stop::corrupt));
  BOOST_TEST(read_all("", stop, valid).empty());
  BOOST_TEST((stop == store::JournalReader::Stop::clean_end));
}

BOOST_AUTO_TEST_CASE(a_stream_reads_the_same_records_whatever_the_pieces) {
  const auto data = journal_of({"first", "", "third record", std::string(300, 'y'), "last"});
  for (std::size_t piece = 1; piece <= data.size(); ++piece) {
    store::JournalStream stream;
    std::vector<std::string> payloads;
    std::vector<std::uint64_t> ends;
    for (std::size_t at = 0; at < data.size(); at += piece) {
      stream.feed(std::string_view(data).substr(at, piece));
      std::string_view payload;
      while (stream.next(payload)) {
        payloads.emplace_back(payload);
        ends.push_back(stream.consumed());
      }
      BOOST_TEST_REQUIRE(!stream.damaged());
    }
    BOOST_TEST_REQUIRE(payloads.size() == 5u, "pieces of " << piece);
    BOOST_TEST(payloads[2] == "third record");
    BOOST_TEST(payloads[3].size() == 300u);
    BOOST_TEST(ends.back() == data.size());
    BOOST_TEST(ends[0] == store::kJournalHeaderBytes + 5);
  }
}

BOOST_AUTO_TEST_CASE(a_stream_stops_at_damage_and_holds_back_a_cut_record) {
  auto data = journal_of({"one", "two", "three"});
  data[store::kJournalHeaderBytes + 3 + store::kJournalHeaderBytes] ^= 0x01;  // the first byte of "two"
  store::JournalStream stream;
  stream.feed(data);
  std::string_view payload;
  BOOST_TEST(stream.next(payload));
  BOOST_TEST(payload == "one");
  BOOST_TEST(!stream.next(payload));
  BOOST_TEST(stream.damaged());
  BOOST_TEST(stream.consumed() == store::kJournalHeaderBytes + 3);

  const auto whole = journal_of({"alpha", "beta"});
  store::JournalStream cut;
  cut.feed(std::string_view(whole).substr(0, whole.size() - 2));
  BOOST_TEST(cut.next(payload));
  BOOST_TEST(!cut.next(payload));  // "beta" is not complete yet
  BOOST_TEST(!cut.damaged());
  cut.feed(std::string_view(whole).substr(whole.size() - 2));
  BOOST_TEST(cut.next(payload));
  BOOST_TEST(payload == "beta");
}

BOOST_AUTO_TEST_SUITE_END()
