#include "daemon/systemd_notifier.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace callgate {

SystemdNotifier::SystemdNotifier(std::string socket_path, std::optional<std::chrono::microseconds> watchdog)
    : socket_path_(std::move(socket_path)), watchdog_(watchdog) {}

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  std::optional<std::chrono::microseconds> watchdog;
  if (const char* usec_text = std::getenv("WATCHDOG_USEC")) {
    unsigned long long usec = 0;
    const std::string_view text(usec_text);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), usec);
    bool for_us = true;
    // WATCHDOG_PID names the process the watchdog is meant for; a child that
    // merely inherited the variable must not ping on its parent's behalf.
    if (const char* pid_text = std::getenv("WATCHDOG_PID"))
      for_us = std::atoll(pid_text) == static_cast<long long>(::getpid());
    if (error == std::errc{} && end == text.data() + text.size() && usec > 0 && for_us)
      watchdog = std::chrono::microseconds(usec);
  }
  return SystemdNotifier(socket ? socket : "", watchdog);
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_ping_interval() const {
  if (!watchdog_) return std::nullopt;
  return *watchdog_ / 2;
}

bool SystemdNotifier::send(std::string_view state) const {
  if (socket_path_.empty()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (address.sun_path[0] == '@')
    address.sun_path[0] = '\0';  // abstract namespace
  else
    length += 1;  // include the terminating NUL

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

void SystemdNotifier::ready(std::string_view status_text) const {
  send("READY=1\nSTATUS=" + std::string(status_text) + "\nMAINPID=" + std::to_string(::getpid()));
}
void SystemdNotifier::reloading() const { send("RELOADING=1"); }
void SystemdNotifier::stopping() const { send("STOPPING=1"); }
void SystemdNotifier::watchdog() const { send("WATCHDOG=1"); }

}  // namespace callgate
