#include "dynamodb_local.hpp"

#include "loopback_port.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace callgate::testing {

std::string dynamodb_local_jar() {
  const auto jar = std::filesystem::path(CALLGATE_SOURCE_DIR) / "tests" / "aws" / "node_modules" /
                   "amplify-dynamodb-simulator" / "emulator" / "DynamoDBLocal.jar";
  return std::filesystem::exists(jar) ? jar.string() : std::string();
}

DynamoDbLocal::DynamoDbLocal() : port_(free_loopback_port()) {
  const auto jar = dynamodb_local_jar();
  if (jar.empty()) throw std::runtime_error("DynamoDB Local is not installed: run scripts/setup aws");
  const auto libraries =
      "-Djava.library.path=" + (std::filesystem::path(jar).parent_path() / "DynamoDBLocal_lib").string();
  const auto port = std::to_string(port_);
  std::string scratch = (std::filesystem::temp_directory_path() / "callgate-dynamodb-XXXXXX").string();
  if (::mkdtemp(scratch.data()) == nullptr) throw std::runtime_error("no scratch directory for DynamoDB Local");
  scratch_ = scratch;
  pid_ = ::fork();
  if (pid_ == 0) {
    if (::chdir(scratch_.c_str()) != 0) ::_exit(126);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execlp("java", "java", libraries.c_str(), "-jar", jar.c_str(), "-inMemory", "-disableTelemetry", "-port",
             port.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int tries = 0; tries < 600; ++tries) {
    if (const int fd = connect_to_loopback(port_); fd >= 0) {
      ::close(fd);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::error_code ignored;
      std::filesystem::remove_all(scratch_, ignored);
      throw std::runtime_error("DynamoDB Local exited at start (is Java installed? scripts/setup aws)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  std::error_code ignored;
  std::filesystem::remove_all(scratch_, ignored);
  throw std::runtime_error("DynamoDB Local did not start on port " + port);
}

DynamoDbLocal::~DynamoDbLocal() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  if (!scratch_.empty()) std::filesystem::remove_all(scratch_, ignored);
}

DynamoDbLocal& shared_dynamodb_local() {
  static DynamoDbLocal instance;
  return instance;
}

std::string fresh_dynamodb_table_name() {
  static std::atomic<int> count{0};
  return "callgate_" + std::to_string(::getpid()) + "_" + std::to_string(count++);
}

}  // namespace callgate::testing
