// The shared LeadStore behaviour, held against the memory and journal
// backends (the Redis backend runs the same cases in the integration tests,
// against a real redis-server).
#include "core/store/journal_lead_store.hpp"
#include "core/store/memory_lead_store.hpp"

#include "lead_store_test_helpers.hpp"

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>

namespace {

struct MemoryBackend {
  static constexpr bool durable = false;
  std::unique_ptr<callgate::store::LeadStore> open() { return std::make_unique<callgate::store::MemoryLeadStore>(); }
};

struct JournalBackend {
  static constexpr bool durable = true;
  std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("callgate-journal-" + std::to_string(std::random_device{}()));
  ~JournalBackend() { std::filesystem::remove_all(directory); }
  std::unique_ptr<callgate::store::LeadStore> open() {
    return std::make_unique<callgate::store::JournalLeadStore>(
        callgate::store::JournalStoreOptions{.directory = directory.string()});
  }
  std::unique_ptr<callgate::store::LeadStore> reopen() { return open(); }
};

using LeadStoreBackends = boost::mpl::list<MemoryBackend, JournalBackend>;

}  // namespace

BOOST_AUTO_TEST_SUITE(lead_store_conformance)
#include "lead_store_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()
