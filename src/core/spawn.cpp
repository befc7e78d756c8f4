#include "core/spawn.hpp"

#include "core/log.hpp"

#include <atomic>
#include <stdexcept>

namespace callgate {

namespace {
std::atomic<std::int64_t> failures{0};
}  // namespace

void report_task_failure(const char* what, const std::exception_ptr& failure) {
  failures.fetch_add(1, std::memory_order_relaxed);
  std::string reason = "an exception that is not a std::exception";
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& thrown) {
    reason = thrown.what();
  } catch (...) {
  }
  LogLine(LogLevel::error, "task_failed").trusted_text("task", what).text("reason", reason);
}

std::int64_t task_failures() { return failures.load(std::memory_order_relaxed); }

}  // namespace callgate
