#include "throttling_proxy.hpp"

#include "loopback_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace callgate::testing {

namespace {

constexpr std::string_view kThrottled =
    R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
    R"("message":"The level of configured provisioned throughput for the table was exceeded."})";

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// Reads into buffer until it holds text; false at the end of the stream.
bool read_until(int fd, std::string& buffer, std::string_view text) {
  char chunk[16384];
  while (buffer.find(text) == std::string::npos) {
    const auto got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

bool read_bytes(int fd, std::string& buffer, std::size_t size) {
  char chunk[16384];
  while (buffer.size() < size) {
    const auto got = ::recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<std::size_t> content_length(const std::string& head) {
  const auto lower = lowercase(head);
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(head.substr(at + 17)));
}

// One whole HTTP/1.1 message from fd (what is left over stays in buffer):
// a body by Content-Length, or chunked up to its last chunk.
std::optional<std::string> read_message(int fd, std::string& buffer) {
  if (!read_until(fd, buffer, "\r\n\r\n")) return std::nullopt;
  const auto head_end = buffer.find("\r\n\r\n") + 4;
  const std::string head = buffer.substr(0, head_end);
  std::size_t end = head_end;
  if (const auto length = content_length(head)) {
    if (!read_bytes(fd, buffer, head_end + *length)) return std::nullopt;
    end = head_end + *length;
  } else if (lowercase(head).find("transfer-encoding: chunked") != std::string::npos) {
    // Up to the last chunk (DynamoDB's JSON never holds a line that is just "0").
    for (;;) {
      const auto last = buffer.find("0\r\n\r\n", head_end);
      if (last != std::string::npos && (last == head_end || buffer.compare(last - 2, 2, "\r\n") == 0)) {
        end = last + 5;
        break;
      }
      const auto before = buffer.size();
      if (!read_bytes(fd, buffer, before + 1)) return std::nullopt;
    }
  }
  std::string message = buffer.substr(0, end);
  buffer.erase(0, end);
  return message;
}

}  // namespace

ThrottlingProxy::ThrottlingProxy(unsigned short upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("the throttling proxy cannot listen on loopback");
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

ThrottlingProxy::~ThrottlingProxy() {
  stopping_ = true;
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard lock(mutex_);
    for (const int fd : open_sockets_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& thread : threads_) thread.join();
}

void ThrottlingProxy::set_faults(unsigned throttle_every, unsigned hold_every, std::chrono::milliseconds hold) {
  throttle_every_ = throttle_every;
  hold_every_ = hold_every;
  hold_ms_ = hold.count();
}

void ThrottlingProxy::accept_loop() {
  while (!stopping_) {
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    ++accepted_;
    std::lock_guard lock(mutex_);
    open_sockets_.push_back(client);
    threads_.emplace_back([this, client] { serve(client); });
  }
}

void ThrottlingProxy::serve(int client) {
  const int upstream = connect_to_loopback(upstream_port_);
  if (upstream >= 0) {
    std::lock_guard lock(mutex_);
    open_sockets_.push_back(upstream);
  }
  std::string from_client;
  std::string from_upstream;
  while (!stopping_ && upstream >= 0) {
    const auto request = read_message(client, from_client);
    if (!request) break;
    const auto number = ++requests_;
    const unsigned throttle = throttle_every_;
    const unsigned hold = hold_every_;
    if (throttle != 0 && number % throttle == 0) {
      ++throttled_;
      const std::string answer =
          "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n"
          "Content-Length: " +
          std::to_string(kThrottled.size()) + "\r\n\r\n" + std::string(kThrottled);
      if (!send_all(client, answer)) break;
      continue;
    }
    if (hold != 0 && number % hold == 0) {
      ++held_;
      std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms_.load()));
    }
    if (!send_all(upstream, *request)) break;
    const auto response = read_message(upstream, from_upstream);
    if (!response || !send_all(client, *response)) break;
    ++passed_;
  }
  // Closed by the thread that opened them, once: the destructor only shuts them down.
  std::lock_guard lock(mutex_);
  for (const int fd : {client, upstream}) {
    if (fd < 0) continue;
    open_sockets_.erase(std::remove(open_sockets_.begin(), open_sockets_.end(), fd), open_sockets_.end());
    ::close(fd);
  }
}

}  // namespace callgate::testing
