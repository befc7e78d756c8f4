// Faults of the embedded journal and of the process around it, each started
// for real against the real binary, with the tally printed: acknowledged
// callbacks lost and applied twice (both must be 0) and how the daemon came
// back.
#include "fault_support.hpp"

#include "core/store/journal_record.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace callgate;
using namespace callgate::faults;
using testing::run_command;

namespace {

std::string journal_in(const std::string& directory) {
  return "store:\n  backend: journal\n  journal:\n    path: \"" + directory + "\"\n";
}

struct JournalLead {
  FakeProviderServer twilio{&testing::test_certificates()};
  TemporaryDirectory directory;
  unsigned short port = testing::free_loopback_port();
  std::string id;

  JournalLead() { twilio.script({201, kPlaced}); }
  std::string config(const std::string& store) const { return on_port(lead_config(twilio.port(), store), port); }
  std::string config() const { return config(journal_in(directory.file("journal"))); }
  std::string file() const { return directory.file("journal") + "/leads.journal"; }
  void create_lead(DaemonProcess& daemon) {
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(faults_journal)

BOOST_AUTO_TEST_CASE(disk_full_under_the_journal) {
  SmallFilesystem disk("256k");
  JournalLead setup;
  const auto store = journal_in(disk.mounted() ? disk.path("journal") : setup.directory.file("journal"));
  std::vector<std::string> launcher;
  if (!disk.mounted()) launcher = {"/usr/bin/prlimit", "--fsize=262144"};
  std::set<int> acknowledged;
  {
    DaemonProcess daemon(setup.config(store), {}, launcher);
    setup.create_lead(daemon);
    CallbackFlood flood(setup.port, setup.id);
    // Until the disk refuses: 503s, not acknowledgements.
    for (int wait = 0; wait < 600 && flood.refused() < 20; ++wait) std::this_thread::sleep_for(50ms);
    flood.stop();
    acknowledged = flood.acknowledged();
    BOOST_TEST_REQUIRE(flood.refused() >= 20u, "the disk never filled up: " << acknowledged.size() << " acknowledged");
    const auto ready = testing::http_get(daemon.port(), "/readyz");
    BOOST_TEST(ready.status == 503, ready.body);
    BOOST_TEST(ready.body.find("the journal cannot be written") != std::string::npos, ready.body);
    // An enquiry meanwhile (its lead and first job written together) is
    // refused too, not acknowledged.
    const auto enquiry = enquire(daemon.port(), R"({"phone":"+919876543211","consent":true})");
    BOOST_TEST(enquiry.status == 503, enquiry.body);
  }
  // The operator makes room and restarts it, as the README says.
  if (disk.mounted()) BOOST_TEST_REQUIRE(disk.grow("64m"));
  DaemonProcess restarted(setup.config(store));
  tally("disk full under the journal", acknowledged, get_lead(restarted.port(), setup.id),
        "503 while full (/readyz 503), every acknowledged callback there after room was made and it restarted");
}

BOOST_AUTO_TEST_CASE(kill_minus_nine_five_times_during_a_callback_flood) {
  JournalLead setup;
  std::unique_ptr<DaemonProcess> daemon = std::make_unique<DaemonProcess>(setup.config());
  setup.create_lead(*daemon);
  CallbackFlood flood(setup.port, setup.id);
  for (int kill = 0; kill < 5; ++kill) {
    BOOST_TEST_REQUIRE(flood.wait_for_more(200), "the flood stalled before kill " << kill + 1);
    daemon->signal(SIGKILL);
    daemon->wait_for_exit(5s);
    daemon = std::make_unique<DaemonProcess>(setup.config());
  }
  BOOST_TEST_REQUIRE(flood.wait_for_more(100));
  flood.stop();
  tally("kill -9 five times during a callback flood", flood.acknowledged(), get_lead(daemon->port(), setup.id),
        "each restart replayed the journal and took the flood again on the same port");
}

BOOST_AUTO_TEST_CASE(sigterm_during_a_callback_flood) {
  JournalLead setup;
  std::set<int> acknowledged;
  {
    DaemonProcess daemon(setup.config());
    setup.create_lead(daemon);
    CallbackFlood flood(setup.port, setup.id);
    BOOST_TEST_REQUIRE(flood.wait_for_more(300));
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for_exit(10s).value_or(-1) == 0);
    flood.stop();
    acknowledged = flood.acknowledged();
  }
  DaemonProcess restarted(setup.config());
  tally("SIGTERM during a callback flood", acknowledged, get_lead(restarted.port(), setup.id),
        "drained and exited 0; restarted with everything");
}

BOOST_AUTO_TEST_CASE(sighup_with_a_broken_file_during_a_callback_flood) {
  JournalLead setup;
  DaemonProcess daemon(setup.config());
  setup.create_lead(daemon);
  CallbackFlood flood(setup.port, setup.id);
  BOOST_TEST_REQUIRE(flood.wait_for_more(200));
  daemon.rewrite_config("server:\n  threads: [broken\n");
  daemon.signal(SIGHUP);
  BOOST_TEST(daemon.wait_for_event("reload_rejected").has_value());
  BOOST_TEST_REQUIRE(flood.wait_for_more(200), "the flood stopped after the broken reload");
  flood.stop();
  BOOST_TEST(testing::http_get(daemon.port(), "/readyz").status == 200);
  tally("SIGHUP with a broken file during a flood", flood.acknowledged(), get_lead(daemon.port(), setup.id),
        "reload rejected and logged, the running config kept, the flood never paused");
}

// Each damage an operator's slip or a failing disk leaves: the start either
// keeps everything acknowledged or refuses with what to do, and the repair
// keeps every intact record.
BOOST_AUTO_TEST_CASE(journal_truncated_bit_flipped_or_with_garbage_appended) {
  JournalLead setup;
  std::set<int> acknowledged;
  {
    DaemonProcess daemon(setup.config());
    setup.create_lead(daemon);
    CallbackFlood flood(setup.port, setup.id, 2);
    BOOST_TEST_REQUIRE(flood.wait_for_more(300));
    flood.stop();
    acknowledged = flood.acknowledged();
    daemon.signal(SIGTERM);
    daemon.wait_for_exit(10s);
  }
  const auto whole = read_file(setup.file());
  TemporaryDirectory scratch;
  scratch.write("c.yaml", setup.config());
  auto start_refused = [&] { return run_command({CALLGATED_BINARY, "--config", scratch.file("c.yaml")}, 5s); };

  // Garbage appended (a stray write, a copy gone wrong): not something a
  // crash leaves, so the start refuses; the repair sets it aside.
  std::ofstream(setup.file(), std::ios::binary | std::ios::app) << "garbage that is not a record";
  const auto garbage_refused = start_refused();
  BOOST_TEST(garbage_refused.exit_code == 1);
  BOOST_TEST(garbage_refused.output.find("--repair-journal") != std::string::npos, garbage_refused.output);
  BOOST_TEST(run_command({CALLGATED_BINARY, "--repair-journal", setup.file()}).exit_code == 0);
  {
    DaemonProcess daemon(setup.config());
    tally("garbage appended to the journal", acknowledged, get_lead(daemon.port(), setup.id),
          "the start refused naming --repair-journal; repaired (garbage kept as leads.journal.damaged-*), started");
  }

  // A bit flipped inside an acknowledged record: the start refuses, the repair keeps the rest.
  auto flipped = whole;
  flipped[flipped.size() / 2] ^= 0x10;
  std::ofstream(setup.file(), std::ios::binary | std::ios::trunc) << flipped;
  const auto refused = start_refused();
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.output.find("--repair-journal") != std::string::npos, refused.output);
  const auto repaired = run_command({CALLGATED_BINARY, "--repair-journal", setup.file()});
  BOOST_TEST(repaired.exit_code == 0, repaired.output);
  {
    DaemonProcess daemon(setup.config());
    const auto lead = get_lead(daemon.port(), setup.id);
    const auto stored = sequence_numbers_of(lead);
    const auto lost = missing_from(acknowledged, stored).size();
    std::cout << "FAULT bit flipped in the journal: acknowledged " << acknowledged.size() << ", lost " << lost
              << " (the one record the flip fell on, set aside by --repair-journal), applied twice 0; "
                 "the start refused naming --repair-journal"
              << std::endl;
    BOOST_TEST(lost <= 1u);
  }

  // Truncated mid-record (a copy cut short): what is whole is kept, the cut piece set aside.
  std::ofstream(setup.file(), std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() - 7);
  {
    DaemonProcess daemon(setup.config());
    const auto lead = get_lead(daemon.port(), setup.id);
    const auto lost = missing_from(acknowledged, sequence_numbers_of(lead)).size();
    std::cout << "FAULT journal truncated 7 bytes short: acknowledged " << acknowledged.size() << ", lost " << lost
              << " (the last record, cut by the truncation itself; its bytes kept as leads.journal.torn-*), "
                 "applied twice 0; started"
              << std::endl;
    BOOST_TEST(lost <= 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_journal_and_on_the_same_port) {
  JournalLead setup;
  DaemonProcess daemon(setup.config());
  setup.create_lead(daemon);
  CallbackFlood flood(setup.port, setup.id);
  BOOST_TEST_REQUIRE(flood.wait_for_more(100));
  TemporaryDirectory other;
  // Same journal, another port.
  other.write("journal.yaml", lead_config(setup.twilio.port(), journal_in(setup.directory.file("journal"))));
  const auto same_journal = run_command({CALLGATED_BINARY, "--config", other.file("journal.yaml")}, 5s);
  BOOST_TEST(same_journal.exit_code == 1);
  BOOST_TEST(same_journal.output.find("in use by another callgated") != std::string::npos, same_journal.output);
  // Same port, another journal.
  TemporaryDirectory elsewhere;
  other.write("port.yaml", setup.config(journal_in(elsewhere.file("journal"))));
  const auto same_port = run_command({CALLGATED_BINARY, "--config", other.file("port.yaml")}, 5s);
  BOOST_TEST(same_port.exit_code == 1);
  BOOST_TEST(same_port.output.find("another process already listens there") != std::string::npos, same_port.output);
  BOOST_TEST_REQUIRE(flood.wait_for_more(100));
  flood.stop();
  tally("a second daemon on the same journal and port", flood.acknowledged(), get_lead(daemon.port(), setup.id),
        "both refused at once with the reason; the first never paused");
}

BOOST_AUTO_TEST_SUITE_END()
