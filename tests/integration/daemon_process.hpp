// Test support: runs the real callgated binary with a config written for the
// test, reads its JSON log lines, and speaks raw HTTP/1.1 to it over loopback.
#pragma once

#include <ostream>  // Boost.JSON streams strings without including it

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace callgate::testing {

using namespace std::chrono_literals;

// The callgated the tests run: this build's, or the one the environment
// variable CALLGATED names (to run a suite against another build, e.g. an
// older release, and see which tests it fails).
const std::string& callgated_binary();
#define CALLGATED_BINARY (::callgate::testing::callgated_binary())

// A scratch directory removed when the test ends.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs a command to completion (for --check-config and --version).
ProcessResult run_command(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout = 10s);

class DaemonProcess {
 public:
  // Writes yaml to a config file and starts callgated on it. The config
  // should listen on port 0; port() is read from the "listening" log line.
  // launcher, when given, runs the binary (e.g. {"/usr/bin/prlimit", "--fsize=65536"}
  // to give it a full disk); it must exec it in the same process.
  explicit DaemonProcess(const std::string& yaml, std::map<std::string, std::string> environment = {},
                         std::vector<std::string> launcher = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }
  void rewrite_config(const std::string& yaml) const;

  void signal(int number) const;
  // Waits for the process to end; nothing on timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  // The next log line whose "event" is event (lines already read are kept
  // and searched first); nothing on timeout.
  std::optional<boost::json::object> wait_for_event(const std::string& event, std::chrono::milliseconds timeout = 5s);
  // Every line read so far, raw, for assertions and failure messages.
  std::string all_output();
  // Stops reading the daemon's output and closes the pipe, as a log reader
  // that dies would.
  void close_output();

 private:
  void read_output();  // the reader thread

  TemporaryDirectory directory_;
  std::string config_path_;
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::thread reader_;
  std::atomic<bool> stop_reading_{false};
  std::mutex output_lock_;  // guards pending_, lines_, next_unsearched_
  std::string pending_;
  std::vector<std::string> lines_;
  std::size_t next_unsearched_ = 0;
  unsigned short port_ = 0;
  bool exited_ = false;
};

// The smallest config for a test daemon: loopback, port 0, one reactor,
// memory store, no credentials. extra is appended to the server section.
std::string test_config(const std::string& server_extra = "", const std::string& log_level = "info",
                        unsigned threads = 1);

// A blocking loopback TCP connection with a receive timeout.
class Connection {
 public:
  explicit Connection(unsigned short port, const std::string& host = "127.0.0.1");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(const std::string& bytes);
  void finish_sending();  // shutdown(SHUT_WR): the peer reads end-of-stream
  // Reads until the peer closes or timeout; returns what came.
  std::string read_until_closed(std::chrono::milliseconds timeout = 5s);
  // Reads one HTTP response (headers + Content-Length body); nothing if the
  // connection closed or timed out first.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout = 5s);
  // True when the peer has closed (a read returns 0) within timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffered_;
};

// Parts of a raw response.
struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};
ParsedResponse parse_response(const std::string& raw);

// One request and its response on a fresh connection.
ParsedResponse http_get(unsigned short port, const std::string& target, const std::string& extra_headers = "",
                        const std::string& method = "GET");

}  // namespace callgate::testing
