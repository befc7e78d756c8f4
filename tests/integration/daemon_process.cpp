#include "daemon_process.hpp"

// Boost.JSON and Beast use std::ostream without including it.
#include <cstdlib>
#include <ostream>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace callgate::testing {

using Clock = std::chrono::steady_clock;

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "callgate-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TemporaryDirectory::write(const std::string& name, const std::string& text) const {
  std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
  out << text;
}

namespace {

struct SpawnedChild {
  pid_t pid;
  int output_fd;
};

SpawnedChild spawn(const std::vector<std::string>& arguments, const std::map<std::string, std::string>& extra_env) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);

  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto name = text.substr(0, text.find('='));
    // The daemon must see only what this test gives it, not the CI's or the
    // developer's own systemd or provider settings.
    if (name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID" || name.starts_with("TWILIO_") ||
        name.starts_with("EXOTEL_") || name == "TELEPHONY_PROVIDER")
      continue;
    environment.push_back(text);
  }
  for (const auto& [name, value] : extra_env) environment.push_back(name + "=" + value);

  std::vector<char*> argv;
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (error != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + arguments[0] + ": " + std::strerror(error));
  }
  return {pid, pipe_fds[0]};
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

ProcessResult run_command(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout) {
  const auto child = spawn(arguments, {});
  ProcessResult result;
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (Clock::now() < deadline) {
    pollfd poll_fd{child.output_fd, POLLIN, 0};
    if (::poll(&poll_fd, 1, 50) > 0) {
      const ssize_t count = ::read(child.output_fd, buffer, sizeof buffer);
      if (count <= 0) break;
      result.output.append(buffer, static_cast<std::size_t>(count));
    }
  }
  ::close(child.output_fd);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(child.pid, &status, WNOHANG) == 0; ++i) ::usleep(20'000);
  if (::waitpid(child.pid, &status, WNOHANG) == 0) {
    ::kill(child.pid, SIGKILL);
    ::waitpid(child.pid, &status, 0);
  }
  result.exit_code = decode_status(status);
  return result;
}

const std::string& callgated_binary() {
  static const std::string binary = [] {
    const char* chosen = std::getenv("CALLGATED");
    return std::string(chosen && *chosen ? chosen : CALLGATED_BUILT_BINARY);
  }();
  return binary;
}

std::string test_config(const std::string& server_extra, const std::string& log_level, unsigned threads) {
  return "server:\n"
         "  listen: \"127.0.0.1:0\"\n"
         "  threads: " +
         std::to_string(threads) + "\n" + server_extra +
         "log:\n"
         "  level: " +
         log_level +
         "\n"
         "store:\n"
         "  backend: memory\n";
}

DaemonProcess::DaemonProcess(const std::string& yaml, std::map<std::string, std::string> environment,
                             std::vector<std::string> launcher)
    : config_path_(directory_.file("callgate.yaml")) {
  directory_.write("callgate.yaml", yaml);
  auto command = std::move(launcher);
  command.insert(command.end(), {CALLGATED_BINARY, "--config", config_path_});
  const auto child = spawn(command, environment);
  pid_ = child.pid;
  output_fd_ = child.output_fd;
  // Read the daemon's output all the time, as journald would: a pipe left
  // full would block the daemon's log writes and stall its reactors.
  reader_ = std::thread([this] { read_output(); });
  auto listening = wait_for_event("listening", 10s);
  if (!listening) {
    signal(SIGKILL);
    wait_for_exit(2s);
    const auto output = all_output();
    close_output();  // the reader thread must end before the throw destroys it
    throw std::runtime_error("callgated did not start listening; output:\n" + output);
  }
  port_ = static_cast<unsigned short>(listening->at("port").as_int64());
}

DaemonProcess::~DaemonProcess() {
  if (!exited_) {
    signal(SIGKILL);
    wait_for_exit(5s);
  }
  close_output();
}

void DaemonProcess::rewrite_config(const std::string& yaml) const {
  std::ofstream out(config_path_, std::ios::binary | std::ios::trunc);
  out << yaml;
}

void DaemonProcess::signal(int number) const {
  if (!exited_) ::kill(pid_, number);
}

std::optional<int> DaemonProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      std::this_thread::sleep_for(100ms);  // the reader takes the last lines
      return decode_status(status);
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

void DaemonProcess::close_output() {
  stop_reading_ = true;
  if (reader_.joinable()) reader_.join();
  if (output_fd_ >= 0) ::close(output_fd_);
  output_fd_ = -1;
}

void DaemonProcess::read_output() {
  char buffer[65536];
  while (!stop_reading_) {
    pollfd poll_fd{output_fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 50) <= 0) continue;
    const ssize_t count = ::read(output_fd_, buffer, sizeof buffer);
    if (count <= 0) return;  // the daemon is gone
    std::lock_guard guard(output_lock_);
    pending_.append(buffer, static_cast<std::size_t>(count));
    for (auto newline = pending_.find('\n'); newline != std::string::npos; newline = pending_.find('\n')) {
      lines_.push_back(pending_.substr(0, newline));
      pending_.erase(0, newline + 1);
    }
  }
}

std::optional<boost::json::object> DaemonProcess::wait_for_event(const std::string& event,
                                                                 std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    std::unique_lock guard(output_lock_);
    for (; next_unsearched_ < lines_.size(); ++next_unsearched_) {
      boost::system::error_code error;
      auto value = boost::json::parse(lines_[next_unsearched_], error);
      if (error || !value.is_object()) continue;
      const auto& object = value.as_object();
      if (const auto* name = object.if_contains("event"); name && name->is_string() && name->as_string() == event) {
        ++next_unsearched_;
        return object;
      }
    }
    guard.unlock();
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

std::string DaemonProcess::all_output() {
  std::lock_guard guard(output_lock_);
  std::string text;
  for (const auto& line : lines_) text += line + "\n";
  return text + pending_;
}

Connection::Connection(unsigned short port, const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  int result = -1;
  if (v6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    ::inet_pton(AF_INET6, host.c_str(), &address.sin6_addr);
    result = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
    result = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (result != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("connect to port " + std::to_string(port) + " failed: " + reason);
  }
}

Connection::~Connection() { ::close(fd_); }

void Connection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t count = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (count <= 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(count);
  }
}

void Connection::finish_sending() { ::shutdown(fd_, SHUT_WR); }

namespace {
// Reads what is available within timeout; 0 on close, -1 on timeout or error.
ssize_t read_some(int fd, std::string& into, std::chrono::milliseconds timeout) {
  pollfd poll_fd{fd, POLLIN, 0};
  if (::poll(&poll_fd, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  char buffer[65536];
  const ssize_t count = ::recv(fd, buffer, sizeof buffer, 0);
  if (count > 0) into.append(buffer, static_cast<std::size_t>(count));
  return count < 0 ? 0 : count;  // a reset counts as closed
}
}  // namespace

std::string Connection::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (read_some(fd_, buffered_, std::max(left, 1ms)) == 0) break;
  }
  return std::exchange(buffered_, {});
}

std::optional<std::string> Connection::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto header_end = buffered_.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      // Content-Length, case-insensitively; every response here carries one.
      std::string head = buffered_.substr(0, header_end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::size_t length = 0;
      if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
        length = std::stoul(head.substr(at + 17));
      // 1xx responses have no body.
      if (head.starts_with("http/1.1 1")) length = 0;
      const std::size_t total = header_end + 4 + length;
      if (buffered_.size() >= total) {
        std::string response = buffered_.substr(0, total);
        buffered_.erase(0, total);
        return response;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return std::nullopt;
    if (read_some(fd_, buffered_, left) <= 0 && buffered_.find("\r\n\r\n") == std::string::npos) return std::nullopt;
  }
}

bool Connection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (read_some(fd_, buffered_, std::max(left, 1ms)) == 0) return true;
  }
  return false;
}

ParsedResponse parse_response(const std::string& raw) {
  ParsedResponse parsed;
  const auto header_end = raw.find("\r\n\r\n");
  BOOST_REQUIRE_MESSAGE(header_end != std::string::npos, "not an HTTP response: " << raw);
  BOOST_REQUIRE_MESSAGE(raw.starts_with("HTTP/1.1 "), "not HTTP/1.1: " << raw);
  parsed.status = std::stoi(raw.substr(9, 3));
  std::size_t line_start = raw.find("\r\n") + 2;
  while (line_start < header_end) {
    const auto line_end = raw.find("\r\n", line_start);
    const auto line = raw.substr(line_start, line_end - line_start);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    parsed.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    line_start = line_end + 2;
  }
  parsed.body = raw.substr(header_end + 4);
  return parsed;
}

ParsedResponse http_get(unsigned short port, const std::string& target, const std::string& extra_headers,
                        const std::string& method) {
  Connection connection(port);
  connection.send(method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "Connection: close\r\n\r\n");
  auto raw = connection.read_response();
  BOOST_REQUIRE_MESSAGE(raw.has_value(), "no response to " << method << " " << target);
  return parse_response(*raw);
}

}  // namespace callgate::testing
