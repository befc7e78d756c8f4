// callgated --backup against a daemon taking enquiries as it runs: every
// lead acknowledged before the backup began is in the copy, and a daemon
// started on the copy (the restore the README describes) serves them.
#include "fake_twilio_account.hpp"
#include "lead_flow_support.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>

namespace callgate {

using namespace lead_flow;

namespace {

struct Run {
  int status = -1;
  std::string output;
};

Run run_binary(const std::string& arguments) {
  Run run;
  FILE* pipe = ::popen((std::string(CALLGATED_BUILT_BINARY) + " " + arguments + " 2>&1").c_str(), "r");
  BOOST_REQUIRE(pipe);
  char chunk[4096];
  while (auto got = std::fread(chunk, 1, sizeof chunk, pipe)) run.output.append(chunk, got);
  const int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string enquiry(const std::string& phone) { return "{\"phone\":\"" + phone + "\",\"consent\":true}"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(backup)

BOOST_AUTO_TEST_CASE(a_backup_taken_while_enquiries_arrive_restores_every_lead_acknowledged_before_it) {
  TemporaryDirectory directory;
  FakeProviderServer twilio(&testing::test_certificates());
  testing::FakeTwilioAccount account(twilio, "AC0123456789abcdef0123456789abcdef", kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), journal_store(directory)));
  std::vector<std::string> before;
  for (int n = 0; n < 30; ++n)
    before.push_back(lead_id_of(enquire(daemon.port(), enquiry("+9198765" + std::to_string(10000 + n)))));

  // Enquiries keep coming while the backup is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> during{0};
  std::thread writer([&] {
    for (int n = 0; !stop; ++n)
      if (enquire(daemon.port(), enquiry("+9197765" + std::to_string(10000 + n))).status == 202) ++during;
  });
  std::this_thread::sleep_for(200ms);
  const auto backed_up = run_binary("--config " + daemon.config_path() + " --backup " + directory.file("backup"));
  std::this_thread::sleep_for(200ms);
  stop = true;
  writer.join();
  BOOST_TEST_REQUIRE(backed_up.status == 0, backed_up.output);
  BOOST_TEST(backed_up.output.find(" records, ") != std::string::npos, backed_up.output);
  BOOST_TEST(during > 0);
  BOOST_TEST(run_binary("--check-journal " + directory.file("backup/leads.journal")).status == 0);

  // The restore: a daemon started on the copy, in a journal directory of its own.
  TemporaryDirectory restored_directory;
  std::filesystem::create_directories(restored_directory.file("journal"));
  std::filesystem::copy_file(directory.file("backup/leads.journal"), restored_directory.file("journal/leads.journal"));
  DaemonProcess restored(lead_config(twilio.port(), journal_store(restored_directory)));
  for (const auto& id : before) BOOST_TEST(send(restored.port(), "GET", "/leads/" + id, kAdmin).status == 200, id);
}

BOOST_AUTO_TEST_CASE(a_store_that_is_not_the_journal_is_not_backed_up_here) {
  TemporaryDirectory directory;
  std::ofstream(directory.file("callgate.yaml")) << lead_config(1, kMemoryStore);
  const auto refused = run_binary("--config " + directory.file("callgate.yaml") + " --backup " + directory.file("b"));
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.output.find("--backup copies the journal store; store.backend is memory") != std::string::npos,
             refused.output);
  BOOST_TEST(!std::filesystem::exists(directory.file("b")));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
