#include "redis_server.hpp"

#include "loopback_port.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace callgate::testing {
namespace {

bool answers_ping(unsigned short port) {
  const int fd = connect_to_loopback(port);
  if (fd < 0) return false;
  const char ping[] = "PING\r\n";
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char reply[16] = {};
  const bool ok = ::write(fd, ping, sizeof ping - 1) > 0 && ::read(fd, reply, sizeof reply - 1) > 0 &&
                  std::strncmp(reply, "+PONG", 5) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool redis_server_available() { return ::access("/usr/bin/redis-server", X_OK) == 0; }

RedisServer::RedisServer(std::string data_directory)
    : data_directory_(std::move(data_directory)), port_(free_loopback_port()) {
  start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  const auto port = std::to_string(port_);
  pid_ = ::fork();
  if (pid_ == 0) {
    // Its start-up banner and warnings would bury the test output.
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (data_directory_.empty())
      ::execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
    else
      ::execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "yes", "--appendfsync", "always", "--dir", data_directory_.c_str(), "--daemonize", "no",
              "--loglevel", "warning", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int tries = 0; tries < 200; ++tries) {
    if (answers_ping(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("redis-server did not start on port " + port);
}

std::string RedisServer::command(const std::vector<std::string>& arguments) const {
  // Appended piece by piece: GCC 12 sees false overlaps (-Wrestrict) in chains of +.
  std::string request("*");
  request.append(std::to_string(arguments.size())).append("\r\n");
  for (const auto& argument : arguments)
    request.append("$").append(std::to_string(argument.size())).append("\r\n").append(argument).append("\r\n");
  const int fd = connect_to_loopback(port_);
  std::string reply;
  if (fd >= 0 && ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    // A short reply comes in one piece on loopback; a bulk one may take a few reads.
    char buffer[4096];
    for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) {
      reply.append(buffer, static_cast<std::size_t>(got));
      if (reply.ends_with("\r\n") && (reply[0] != '$' || reply.find("\r\n") + 2 < reply.size() || reply == "$-1\r\n"))
        break;
    }
  }
  if (fd >= 0) ::close(fd);
  return reply;
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace callgate::testing
