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

RedisServer::RedisServer(std::string data_directory, std::optional<RedisTls> tls)
    : data_directory_(std::move(data_directory)),
      tls_(std::move(tls)),
      port_(free_loopback_port()),
      tls_port_(tls_ ? free_loopback_port() : 0) {
  start();
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
  const auto port = std::to_string(port_);
  std::vector<std::string> arguments{"redis-server", "--port", port,         "--bind", "127.0.0.1", "--save", "",
                                     "--daemonize",  "no",     "--loglevel", "warning"};
  if (data_directory_.empty()) {
    arguments.insert(arguments.end(), {"--appendonly", "no"});
  } else {
    arguments.insert(arguments.end(), {"--appendonly", "yes", "--appendfsync", "always", "--dir", data_directory_});
  }
  if (tls_) {
    arguments.insert(arguments.end(), {"--tls-port", std::to_string(tls_port_), "--tls-cert-file", tls_->cert_file,
                                       "--tls-key-file", tls_->key_file, "--tls-ca-cert-file", tls_->ca_file,
                                       "--tls-auth-clients", tls_->auth_clients ? "yes" : "no"});
  }
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    // Its start-up banner and warnings would bury the test output.
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execv("/usr/bin/redis-server", argv.data());
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
