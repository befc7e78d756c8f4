// callgated: parse flags, load the config, run the daemon.
#include "core/config_loader.hpp"
#include "core/log.hpp"
#include "core/state_files.hpp"
#include "core/store/journal_backup.hpp"
#include "core/store/journal_repair.hpp"
#include "daemon/daemon.hpp"
#include "daemon/dynamodb_start.hpp"
#include "daemon/version.hpp"
#include "providers/provider.hpp"

#include <malloc.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

constexpr const char* kDefaultConfigPath = "/etc/callgate/callgate.yaml";

void print_usage(std::ostream& out) {
  out << "usage: callgated [--config FILE] [--check-config] [--version] [--help]\n"
         "       callgated --check-journal FILE | --repair-journal FILE\n"
         "       callgated [--config FILE] --backup DIR\n"
         "\n"
         "  --config FILE          YAML configuration (default "
      << kDefaultConfigPath
      << ")\n"
         "  --check-config         validate FILE and the environment, print problems, exit 0 or 1\n"
         "  --check-journal FILE   report the intact records and damaged stretches of a journal,\n"
         "                         spool or dialer journal; exit 0 when clean, 1 when damaged\n"
         "  --repair-journal FILE  keep FILE's intact records, in order; the original and the damaged\n"
         "                         bytes are kept beside it first (callgated must not be running)\n"
         "  --backup DIR           copy the journal store's files (the leads journal, and the dialer's\n"
         "                         when dialer.path is set) into DIR, consistent while callgated runs\n"
         "  --version              print the version and exit\n"
         "\n"
         "Secrets may come from the environment (TWILIO_AUTH_TOKEN, EXOTEL_API_TOKEN, ...);\n"
         "the environment wins over the file. See conf/callgate.yaml for every key.\n";
}

// The lock a running callgated holds on the directory of this file, by the
// file's name; a repair takes it so it never rewrites a file in use.
std::string lock_name_for(const std::filesystem::path& file) {
  const auto name = file.filename().string();
  if (name == "leads.journal") return "journal.lock";
  if (name == "webhooks.spool") return "spool.lock";
  return "dialer.lock";
}

int check_or_repair_journal(const std::string& file, bool repair) {
  try {
    if (!std::filesystem::exists(file)) {
      std::cerr << "callgated: " << file << " does not exist\n";
      return 2;
    }
    if (!repair) {
      std::ifstream in(file, std::ios::binary);
      const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto inspection = callgate::store::inspect_journal(data);
      std::cout << callgate::store::describe(inspection, file);
      return inspection.clean() ? 0 : 1;
    }
    const auto directory = std::filesystem::path(file).parent_path();
    callgate::DirectoryLock lock(directory.empty() ? "." : directory, lock_name_for(file), "the file to repair");
    const auto result = callgate::store::repair_journal(file);
    std::cout << callgate::store::describe(result.inspection, file);
    if (result.inspection.clean()) {
      std::cout << "Nothing to repair.\n";
      return 0;
    }
    std::cout << "Repaired: " << file << " now holds the " << result.inspection.records << " intact records.\n"
              << "The file as it was: " << result.original_kept_in.string() << "\n"
              << "The damaged bytes: " << result.damaged_kept_in.string() << "\n";
    return 0;
  } catch (const std::exception& failure) {
    std::cerr << "callgated: " << failure.what() << "\n";
    return 1;
  }
}

// --backup: the journal store's files, each a consistent copy of its whole
// records (core/store/journal_backup.hpp). Other stores keep their own
// backups (Redis: its RDB or AOF files; DynamoDB: point-in-time recovery).
int back_up(const callgate::Config& config, const std::filesystem::path& into) {
  if (config.store.backend != callgate::StoreBackend::journal) {
    std::cerr << "callgated: --backup copies the journal store; store.backend is "
              << callgate::to_string(config.store.backend)
              << " (back up Redis with its RDB or AOF files, DynamoDB with point-in-time recovery)\n";
    return 2;
  }
  std::vector<std::filesystem::path> files{std::filesystem::path(config.store.journal_path) / "leads.journal"};
  if (!config.dialer.path.empty()) files.push_back(std::filesystem::path(config.dialer.path) / "dialer.journal");
  try {
    for (const auto& file : files) {
      const auto copied = callgate::store::backup_journal(file, into);
      std::cout << copied.written.string() << ": " << copied.records << " records, " << copied.bytes << " bytes";
      if (copied.tail_dropped > 0)
        std::cout << " (a record being written, " << copied.tail_dropped << " bytes, left out)";
      std::cout << "\n";
    }
  } catch (const std::exception& failure) {
    std::cerr << "callgated: " << failure.what() << "\n";
    return 1;
  }
  std::cout << "To restore: stop callgated, put these files in place of the ones in store.journal.path"
            << (config.dialer.path.empty() ? "" : " and dialer.path") << ", start it.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A log reader that goes away (journald restarting, a closed pipe) must
  // cost log lines, not the process: write(2) then fails with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  // Likewise a file-size limit (RLIMIT_FSIZE) reached by the journal or the
  // spool: the write fails with EFBIG and the store reports it (503s,
  // /readyz), as on a full disk, instead of the process being killed.
  std::signal(SIGXFSZ, SIG_IGN);
#if defined(__GLIBC__) && !defined(CALLGATE_JEMALLOC)
  // With glibc's allocator (a build without jemalloc): large buffers (a
  // journal snapshot, a spool read) come from mmap and go back to the
  // system when freed. glibc would otherwise raise this threshold after the
  // first such free and keep later ones in its heap, so the resident size
  // would stay at the high-water mark of a snapshot. (jemalloc returns
  // freed pages to the system on its own, after a few seconds.)
  ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif

  std::string config_path = kDefaultConfigPath;
  bool check_only = false;
  std::string backup_into;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (argument.starts_with("--config=")) {
      config_path = std::string(argument.substr(9));
    } else if ((argument == "--check-journal" || argument == "--repair-journal") && i + 1 < argc) {
      return check_or_repair_journal(argv[i + 1], argument == "--repair-journal");
    } else if (argument == "--check-config") {
      check_only = true;
    } else if (argument == "--backup" && i + 1 < argc) {
      backup_into = argv[++i];
    } else if (argument == "--version") {
      std::cout << "callgated " << callgate::version() << "\n";
      return 0;
    } else if (argument == "--help" || argument == "-h") {
      print_usage(std::cout);
      return 0;
    } else {
      std::cerr << "callgated: unknown or incomplete argument '" << argument << "'\n";
      print_usage(std::cerr);
      return 2;
    }
  }

  auto loaded =
      callgate::load_config_file(config_path, callgate::process_environment(), callgate::providers::config_sections());
  for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
  if (check_only) {
    if (!loaded.ok()) return 1;
    // The store's table, with the credentials the daemon would use: found
    // now, not at the first enquiry.
    if (loaded.config.store.backend == callgate::StoreBackend::dynamodb) {
      try {
        callgate::start_dynamodb(loaded.config.store, loaded.config.telephony.http_client,
                                 callgate::process_environment(), callgate::TableStep::check_only);
      } catch (const std::exception& failure) {
        std::cerr << config_path << ": store.dynamodb: " << failure.what() << "\n";
        return 1;
      }
    }
    std::cout << config_path << ": OK\n";
    return 0;
  }
  if (!loaded.ok()) return 1;
  if (!backup_into.empty()) return back_up(loaded.config, backup_into);

  try {
    callgate::Daemon daemon(config_path, std::move(loaded.config), callgate::SystemdNotifier::from_environment());
    return daemon.run();
  } catch (const std::exception& failure) {
    callgate::LogLine(callgate::LogLevel::error, "startup_failed").trusted_text("reason", failure.what());
    std::cerr << "callgated: " << failure.what() << "\n";
    return 1;
  }
}
