#include "core/store/redis_epoch.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>

#include <sys/stat.h>

using namespace callgate;
using namespace callgate::store;

BOOST_AUTO_TEST_SUITE(redis_epoch)

BOOST_AUTO_TEST_CASE(what_a_connect_finds) {
  BOOST_TEST((store::judge_epoch(std::nullopt, "") == store::EpochFinding::first_use));
  BOOST_TEST((store::judge_epoch(std::string("e1"), "") == store::EpochFinding::same));  // another host set it first
  BOOST_TEST((store::judge_epoch(std::string("e1"), "e1") == store::EpochFinding::same));
  BOOST_TEST((store::judge_epoch(std::nullopt, "e1") == store::EpochFinding::lost));  // restarted empty, flushed
  BOOST_TEST((store::judge_epoch(std::string("e2"), "e1") ==
              store::EpochFinding::lost));  // emptied and used again, or another Redis
}

BOOST_AUTO_TEST_CASE(the_epoch_file_round_trips_privately_and_never_through_a_symlink) {
  const auto directory =
      std::filesystem::temp_directory_path() / ("callgate-epoch-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(directory);
  const auto file = (directory / "redis.epoch").string();
  BOOST_TEST(store::read_epoch_file(file).empty());
  const auto epoch = store::new_epoch();
  BOOST_TEST(epoch.size() == 32u);
  BOOST_TEST(store::new_epoch() != epoch);
  BOOST_TEST(store::write_epoch_file(file, epoch));
  BOOST_TEST(store::read_epoch_file(file) == epoch);
  struct stat status {};
  ::stat(file.c_str(), &status);
  BOOST_TEST((status.st_mode & 0777) == 0600u);
  const auto link = (directory / "linked.epoch").string();
  std::filesystem::create_symlink(file, link);
  BOOST_TEST(store::read_epoch_file(link).empty());
  std::filesystem::remove_all(directory);
}

BOOST_AUTO_TEST_SUITE_END()
