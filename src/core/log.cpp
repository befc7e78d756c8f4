#include "core/log.hpp"

#include "core/ascii.hpp"
#include "core/phone_mask.hpp"
#include "core/utf8.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>

namespace callgate {
namespace {

std::atomic<LogLevel> current_level{LogLevel::info};

std::atomic<std::int64_t> lines_dropped{0};

void write_to_stdout(std::string_view lines) {
  // journald hands services a stream socket; a pipe or a terminal when run
  // by hand, where blocking is what the person at the other end expects.
  static const bool stdout_is_socket = [] {
    struct stat status {};
    return ::fstat(STDOUT_FILENO, &status) == 0 && S_ISSOCK(status.st_mode);
  }();
  lines_dropped.fetch_add(write_log_lines(STDOUT_FILENO, lines, stdout_is_socket), std::memory_order_relaxed);
}

std::atomic<LogSink> current_sink{&write_to_stdout};

struct LogBatch {
  bool active = false;
  void (*schedule_flush)(void*) = nullptr;
  void* context = nullptr;
  std::string pending;
};
thread_local LogBatch batch;

// Past this, a batch is written without waiting for the loop's turn to end.
constexpr std::size_t kMaxBatchBytes = 64 * 1024;

// RFC 3339 UTC with milliseconds; the seconds part is formatted once per second per thread.
void append_timestamp(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached_prefix[32];
  const auto now = std::chrono::system_clock::now();
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  if (seconds != cached_second) {
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    std::strftime(cached_prefix, sizeof cached_prefix, "%Y-%m-%dT%H:%M:%S", &parts);
    cached_second = seconds;
  }
  char millis[8];
  const int length = std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(since_epoch.count() % 1000));
  out.append(cached_prefix);
  out.append(millis, static_cast<std::size_t>(length));
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

void set_log_level(LogLevel level) { current_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return current_level.load(std::memory_order_relaxed); }
void set_log_sink(LogSink sink) { current_sink.store(sink ? sink : &write_to_stdout); }

void append_json_string(std::string& out, std::string_view value, bool mask_phones) {
  std::string masked;
  if (mask_phones) {
    masked.reserve(value.size());
    append_masked_phone_numbers(masked, value);
    value = masked;
  }
  out.push_back('"');
  for (std::size_t at = 0; at < value.size(); ++at) {
    const char c = value[at];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else if (static_cast<unsigned char>(c) < 0x80) {
          out.push_back(c);
        } else if (const auto length = utf8_sequence_length(value.substr(at)); length != 0) {
          out.append(value.substr(at, length));
          at += length - 1;
        } else {
          // A byte that is not part of well-formed UTF-8 (a hostile request
          // target, a provider's odd encoding) is written as its own escape:
          // the line stays valid JSON and the byte stays visible.
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        }
    }
  }
  out.push_back('"');
}

LogLine::LogLine(LogLevel level, std::string_view event) : enabled_(log_enabled(level)), level_(level) {
  if (!enabled_) return;
  line_.reserve(256);
  line_ += "{\"ts\":\"";
  append_timestamp(line_);
  line_ += "\",\"level\":\"";
  line_ += to_string(level);
  line_ += "\",\"event\":";
  append_json_string(line_, event, false);
}

std::int64_t log_lines_dropped() { return lines_dropped.load(std::memory_order_relaxed); }

std::int64_t write_log_lines(int fd, std::string_view lines, bool never_block) {
  constexpr int kPatienceMs = 5;
  while (!lines.empty()) {
    const ssize_t written = never_block ? ::send(fd, lines.data(), lines.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                                        : ::write(fd, lines.data(), lines.size());
    if (written > 0) {
      lines.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd writable{fd, POLLOUT, 0};
      if (::poll(&writable, 1, kPatienceMs) == 1) continue;
    }
    // Stuck or gone (EPIPE): there is nowhere to report this but the count.
    return static_cast<std::int64_t>(std::count(lines.begin(), lines.end(), '\n'));
  }
  return 0;
}

void begin_log_batching(void (*schedule_flush)(void* context), void* context) {
  batch.active = true;
  batch.schedule_flush = schedule_flush;
  batch.context = context;
  batch.pending.reserve(kMaxBatchBytes);
}

void flush_log_batch() {
  if (batch.pending.empty()) return;
  current_sink.load()(batch.pending);
  batch.pending.clear();
}

void end_log_batching() {
  flush_log_batch();
  batch.active = false;
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_ += "}\n";
  if (!batch.active) {
    current_sink.load()(line_);
    return;
  }
  const bool first_in_batch = batch.pending.empty();
  batch.pending += line_;
  if (level_ >= LogLevel::warn || batch.pending.size() >= kMaxBatchBytes)
    flush_log_batch();
  else if (first_in_batch)
    batch.schedule_flush(batch.context);
}

void LogLine::key(std::string_view name) {
  line_.push_back(',');
  append_json_string(line_, name, false);
  line_.push_back(':');
}

LogLine& LogLine::text(std::string_view name, std::string_view value) {
  if (!enabled_) return *this;
  key(name);
  append_json_string(line_, value, true);
  return *this;
}

namespace {

bool contains_ignoring_case(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (std::size_t at = 0; at + word.size() <= text.size(); ++at) {
    std::size_t matched = 0;
    while (matched < word.size() && to_lower_ascii(text[at + matched]) == word[matched]) ++matched;
    if (matched == word.size()) return true;
  }
  return false;
}

// A query parameter whose name says it carries a credential. Generous on
// purpose: a redacted harmless value costs nothing, a logged token costs a rotation.
bool names_a_secret(std::string_view name) {
  // ("pass" covers password and passwd, "sig" signature.)
  for (const std::string_view word : {"token", "secret", "pass", "sig", "key", "auth", "credential", "session"})
    if (contains_ignoring_case(name, word)) return true;
  return false;
}

constexpr std::string_view kRedacted = "REDACTED";

}  // namespace

std::string redact_url_secrets(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  // user:password@ in an absolute URL.
  const auto scheme_end = value.find("://");
  const auto query_start = value.find('?');
  if (scheme_end != std::string_view::npos && (query_start == std::string_view::npos || scheme_end < query_start)) {
    const auto authority_start = scheme_end + 3;
    const auto authority_end = std::min(value.find_first_of("/?#", authority_start), value.size());
    const auto at = value.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos && at >= authority_start) {
      out.append(value.substr(0, authority_start)).append(kRedacted).push_back('@');
      value.remove_prefix(at + 1);
    }
  }
  const auto query = value.find('?');
  if (query == std::string_view::npos) {
    out.append(value);
    return out;
  }
  out.append(value.substr(0, query + 1));
  auto rest = value.substr(query + 1);
  const auto fragment = rest.find('#');
  const auto tail = fragment == std::string_view::npos ? std::string_view{} : rest.substr(fragment);
  rest = rest.substr(0, fragment);
  bool first = true;
  while (true) {
    const auto end = rest.find('&');
    const auto pair = rest.substr(0, end);
    if (!first) out.push_back('&');
    first = false;
    const auto equals = pair.find('=');
    if (equals != std::string_view::npos && names_a_secret(pair.substr(0, equals)))
      out.append(pair.substr(0, equals + 1)).append(kRedacted);
    else
      out.append(pair);
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  out.append(tail);
  return out;
}

LogLine& LogLine::url(std::string_view name, std::string_view value) {
  if (!enabled_) return *this;
  key(name);
  // Nothing to redact without a query or an authority: the common request
  // target ("/webhook/twilio") is written without a copy.
  if (value.find('?') == std::string_view::npos && value.find('@') == std::string_view::npos)
    append_json_string(line_, value, true);
  else
    append_json_string(line_, redact_url_secrets(value), true);
  return *this;
}

LogLine& LogLine::trusted_text(std::string_view name, std::string_view value) {
  if (!enabled_) return *this;
  key(name);
  append_json_string(line_, value, false);
  return *this;
}

LogLine& LogLine::number(std::string_view name, std::int64_t value) {
  if (!enabled_) return *this;
  key(name);
  line_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::boolean(std::string_view name, bool value) {
  if (!enabled_) return *this;
  key(name);
  line_ += value ? "true" : "false";
  return *this;
}

}  // namespace callgate
