// Structured logging: one JSON object per line on stdout, which journald (or
// any collector) stores as is. Every text field passes through the phone
// masker, so a number in a URL or a message never lands in the logs whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callgate {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

std::string_view to_string(LogLevel level);

// The level is process-wide and changes on SIGHUP; reading it is one relaxed
// atomic load, so checking it on every request costs nothing measurable.
void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) { return level >= log_level(); }

// Where finished lines go (one or more whole lines per call); stdout by
// default. Tests capture lines with this.
using LogSink = void (*)(std::string_view lines);
void set_log_sink(LogSink sink);

// Lines the default sink dropped rather than block: when stdout is a socket
// (journald's stream, under systemd) and the reader falls behind for more
// than a few milliseconds, a reactor loses log lines instead of stalling
// requests. Exported as callgate_log_lines_dropped_total.
std::int64_t log_lines_dropped();

// Writes lines to fd. With never_block, a full socket is waited for at most
// a few milliseconds, then the rest is dropped and counted. Returns the
// number of lines dropped.
std::int64_t write_log_lines(int fd, std::string_view lines, bool never_block);

// A thread running an event loop may batch its lines: they collect in a
// thread-local buffer, schedule_flush is called when the first one arrives
// (the reactor posts flush_log_batch() to run after the work already queued),
// and one write then carries them all. warn and error lines flush at once,
// so what precedes a crash is on disk.
void begin_log_batching(void (*schedule_flush)(void* context), void* context);
void flush_log_batch();
void end_log_batching();  // flushes

// Builds one line and writes it when destroyed:
//   LogLine(LogLevel::info, "listening").text("address", "127.0.0.1:8080");
// Lines below the current level are never built.
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& text(std::string_view key, std::string_view value);  // phone-masked
  // A URL or request target from outside: the values of query parameters
  // that carry secrets (token, secret, password, signature, key, auth, ...)
  // and any user:password@ are replaced by "REDACTED", then phone-masked.
  LogLine& url(std::string_view key, std::string_view value);
  // For values the daemon itself produced (addresses, ids, durations as
  // text), which must not be garbled by masking. Never for request data.
  LogLine& trusted_text(std::string_view key, std::string_view value);
  LogLine& number(std::string_view key, std::int64_t value);
  LogLine& boolean(std::string_view key, bool value);

 private:
  void key(std::string_view name);
  bool enabled_;
  LogLevel level_;
  std::string line_;
};

// url's redaction on its own: value unchanged when nothing in it is secret.
std::string redact_url_secrets(std::string_view value);

// JSON string escaping (quotes included) with phone masking; shared by the
// logger and the access log.
void append_json_string(std::string& out, std::string_view value, bool mask_phones);

}  // namespace callgate
