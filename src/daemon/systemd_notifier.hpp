// The sd_notify datagram protocol, spoken directly: one AF_UNIX datagram per
// state change to the socket named by $NOTIFY_SOCKET (a path, or an abstract
// name written with a leading '@'). Without $NOTIFY_SOCKET every call is a no-op,
// so the daemon behaves the same when run by hand.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace callgate {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID) once.
  static SystemdNotifier from_environment();
  explicit SystemdNotifier(std::string socket_path, std::optional<std::chrono::microseconds> watchdog = {});

  bool enabled() const { return !socket_path_.empty(); }
  // Half of systemd's WatchdogSec, the interval systemd recommends for pings.
  std::optional<std::chrono::microseconds> watchdog_ping_interval() const;

  void ready(std::string_view status) const;
  void reloading() const;
  void stopping() const;
  void watchdog() const;
  // Sends the raw state string, e.g. "READY=1\nSTATUS=listening"; false on failure.
  bool send(std::string_view state) const;

 private:
  std::string socket_path_;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace callgate
