// Start-up, signals and systemd notification, on the real binary.
#include "daemon_process.hpp"

// Boost.JSON and Beast use std::ostream without including it.
#include <ostream>

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <thread>

using namespace callgate::testing;

namespace {

// Plays systemd's side of $NOTIFY_SOCKET: a datagram socket in a temp dir.
class NotifySocket {
 public:
  NotifySocket() : path_(directory_.file("notify")) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // The next datagram containing text, skipping others; nothing on timeout.
  std::optional<std::string> wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 50) <= 0) continue;
      char buffer[4096];
      const ssize_t count = ::recv(fd_, buffer, sizeof buffer, 0);
      if (count <= 0) continue;
      std::string message(buffer, static_cast<std::size_t>(count));
      received_ += message + "\n--\n";
      if (message.find(text) != std::string::npos) return message;
    }
    return std::nullopt;
  }
  const std::string& received() const { return received_; }

 private:
  TemporaryDirectory directory_;
  std::string path_;
  int fd_ = -1;
  std::string received_;
};

std::string config_path_in(const std::string& yaml, TemporaryDirectory& directory) {
  directory.write("c.yaml", yaml);
  return directory.file("c.yaml");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(version_flag) {
  auto result = run_command({CALLGATED_BINARY, "--version"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.output.starts_with("callgated "), result.output);
}

BOOST_AUTO_TEST_CASE(check_config_accepts_good_files_and_reports_bad_lines) {
  TemporaryDirectory directory;
  auto good = run_command({CALLGATED_BINARY, "--check-config", "--config", config_path_in(test_config(), directory)});
  BOOST_TEST(good.exit_code == 0, good.output);

  directory.write("bad.yaml", "server:\n  listen: \"127.0.0.1:0\"\n  threds: 2\nlog:\n  level: chatty\n");
  auto bad = run_command({CALLGATED_BINARY, "--check-config", "--config", directory.file("bad.yaml")});
  BOOST_TEST(bad.exit_code == 1);
  BOOST_TEST(bad.output.find(directory.file("bad.yaml") + ":3: unknown key 'server.threds'") != std::string::npos,
             bad.output);
  BOOST_TEST(bad.output.find(directory.file("bad.yaml") + ":5: log.level") != std::string::npos, bad.output);

  auto missing = run_command({CALLGATED_BINARY, "--check-config", "--config", directory.file("none.yaml")});
  BOOST_TEST(missing.exit_code == 1);

  auto unknown_flag = run_command({CALLGATED_BINARY, "--frobnicate"});
  BOOST_TEST(unknown_flag.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(a_bad_config_stops_the_daemon_before_it_starts) {
  TemporaryDirectory directory;
  directory.write("bad.yaml", "server:\n  threads: lots\n");
  auto result = run_command({CALLGATED_BINARY, "--config", directory.file("bad.yaml")});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.output.find(":2: server.threads") != std::string::npos, result.output);
}

BOOST_AUTO_TEST_CASE(a_taken_address_is_a_clear_start_up_error) {
  DaemonProcess first(test_config());
  // SO_REUSEPORT lets a second callgated share the port on purpose (the
  // reactors of one daemon do it); a socket that did not opt in blocks it.
  int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  BOOST_REQUIRE(::listen(blocker, 1) == 0);
  socklen_t length = sizeof address;
  ::getsockname(blocker, reinterpret_cast<sockaddr*>(&address), &length);
  const auto port = ntohs(address.sin_port);

  TemporaryDirectory directory;
  directory.write("c.yaml",
                  "server:\n  listen: \"127.0.0.1:" + std::to_string(port) + "\"\nstore:\n  backend: memory\n");
  auto result = run_command({CALLGATED_BINARY, "--config", directory.file("c.yaml")});
  ::close(blocker);
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.output.find("cannot bind 127.0.0.1:" + std::to_string(port)) != std::string::npos, result.output);
}

BOOST_AUTO_TEST_CASE(sigterm_finishes_the_request_in_flight_then_exits_zero) {
  DaemonProcess daemon(test_config());
  Connection in_flight(daemon.port());
  Connection idle(daemon.port());
  idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  BOOST_REQUIRE(idle.read_response());  // now waiting, keep-alive, for another request

  // Half a request: the daemon is reading it when SIGTERM comes.
  in_flight.send("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234");
  std::this_thread::sleep_for(100ms);
  daemon.signal(SIGTERM);
  BOOST_REQUIRE(daemon.wait_for_event("shutdown_requested"));

  // The idle connection is closed at once; no new connection is accepted.
  BOOST_TEST(idle.closed_by_peer(2s));
  BOOST_CHECK_THROW(Connection(daemon.port()), std::runtime_error);

  // The request in flight still gets its answer, marked as the last one.
  in_flight.send("56789");
  const auto raw = in_flight.read_until_closed(3s);
  const auto parsed = parse_response(raw);
  BOOST_TEST(parsed.status == 200);
  BOOST_TEST(parsed.headers.at("connection") == "close");

  auto code = daemon.wait_for_exit(5s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  BOOST_TEST(daemon.wait_for_event("drained", 1s).has_value(), daemon.all_output());
}

BOOST_AUTO_TEST_CASE(losing_the_log_reader_does_not_kill_the_daemon) {
  DaemonProcess daemon(test_config());
  daemon.close_output();
  for (int i = 0; i < 20; ++i) BOOST_TEST_REQUIRE(http_get(daemon.port(), "/healthz").status == 200);
  daemon.signal(SIGTERM);
  auto code = daemon.wait_for_exit(5s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_gives_up_on_a_stuck_request_at_the_drain_deadline) {
  DaemonProcess daemon(test_config("  drain_timeout: 500ms\n  read_timeout: 60s\n"));
  Connection stuck(daemon.port());
  stuck.send("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01");
  std::this_thread::sleep_for(100ms);
  const auto started = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  auto code = daemon.wait_for_exit(5s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST((took >= 450ms));
  BOOST_TEST((took < 3s));
  BOOST_TEST(daemon.wait_for_event("drain_deadline_passed", 1s).has_value(), daemon.all_output());
}

BOOST_AUTO_TEST_CASE(sighup_changes_the_log_level_and_keeps_the_old_config_on_errors) {
  DaemonProcess daemon(test_config("", "info"));
  http_get(daemon.port(), "/healthz");
  BOOST_TEST(daemon.wait_for_event("http_request").has_value());

  daemon.rewrite_config(test_config("", "warn"));
  daemon.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);  // the reload line itself is info, so nothing shows it
  http_get(daemon.port(), "/healthz");
  BOOST_TEST(!daemon.wait_for_event("http_request", 300ms).has_value(), daemon.all_output());

  daemon.rewrite_config(test_config("", "info"));
  daemon.signal(SIGHUP);
  auto reloaded = daemon.wait_for_event("reloaded");
  BOOST_REQUIRE_MESSAGE(reloaded, daemon.all_output());
  BOOST_TEST(std::string(reloaded->at("applied").as_string()) == "log.level");
  http_get(daemon.port(), "/healthz");
  BOOST_TEST(daemon.wait_for_event("http_request").has_value(), daemon.all_output());

  // A broken file: logged, and the daemon goes on with what it had.
  daemon.rewrite_config("server:\n  threads: [oops\n");
  daemon.signal(SIGHUP);
  BOOST_TEST(daemon.wait_for_event("reload_rejected").has_value(), daemon.all_output());
  BOOST_TEST(http_get(daemon.port(), "/healthz").status == 200);
  BOOST_TEST(daemon.wait_for_event("http_request").has_value());  // still at info

  // A key that needs a restart is named, not applied.
  daemon.rewrite_config(test_config("", "info", 3));
  daemon.signal(SIGHUP);
  auto restart = daemon.wait_for_event("reload_needs_restart");
  BOOST_REQUIRE_MESSAGE(restart, daemon.all_output());
  BOOST_TEST(restart->at("keys").as_string() == "server.threads");
  BOOST_TEST(http_get(daemon.port(), "/metrics").body.find("callgate_reactors 1\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(systemd_hears_ready_watchdog_and_stopping) {
  NotifySocket systemd;
  DaemonProcess daemon(test_config("", "info", 2), {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "200000"}});
  auto ready = systemd.wait_for("READY=1", 5s);
  BOOST_REQUIRE_MESSAGE(ready, systemd.received());
  BOOST_TEST(ready->find("MAINPID=" + std::to_string(daemon.pid())) != std::string::npos, *ready);
  // Pings at half of WATCHDOG_USEC: several within half a second.
  BOOST_TEST(systemd.wait_for("WATCHDOG=1", 2s).has_value(), systemd.received());
  BOOST_TEST(systemd.wait_for("WATCHDOG=1", 2s).has_value(), systemd.received());

  daemon.signal(SIGHUP);
  BOOST_TEST(systemd.wait_for("RELOADING=1", 2s).has_value(), systemd.received());
  BOOST_TEST(systemd.wait_for("READY=1", 2s).has_value(), systemd.received());

  daemon.signal(SIGTERM);
  BOOST_TEST(systemd.wait_for("STOPPING=1", 2s).has_value(), systemd.received());
  auto code = daemon.wait_for_exit(5s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_CASE(abstract_notify_sockets_work_too) {
  const std::string name = "callgate-test-" + std::to_string(::getpid());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address),
                       static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())) == 0);
  DaemonProcess daemon(test_config(), {{"NOTIFY_SOCKET", "@" + name}});
  pollfd poll_fd{fd, POLLIN, 0};
  BOOST_REQUIRE(::poll(&poll_fd, 1, 5000) == 1);
  char buffer[512];
  const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
  ::close(fd);
  BOOST_REQUIRE(count > 0);
  BOOST_TEST(std::string(buffer, static_cast<std::size_t>(count)).starts_with("READY=1"));
}

BOOST_AUTO_TEST_SUITE_END()
