// Amazon's DynamoDB Local for a test: the official emulator's jar (shipped
// in npm's amplify-dynamodb-simulator, installed by scripts/setup aws into
// tests/aws) run by Debian's Java on a free loopback port, in memory, with
// its telemetry off, in a scratch directory of its own (it writes a
// metadata file where it runs); killed, and the directory removed, when the
// test ends. It does not check
// signatures (any well-formed Authorization passes), so callgate's are
// proven by tests/unit/aws/sigv4_test.cpp and the SDK's signer.
#pragma once

#include <sys/types.h>
#include <string>

namespace callgate::testing {

class DynamoDbLocal {
 public:
  // Starts it and waits (up to 60 s: a JVM on a busy machine) until it
  // answers on its port; throws std::runtime_error if it does not.
  DynamoDbLocal();
  ~DynamoDbLocal();
  DynamoDbLocal(const DynamoDbLocal&) = delete;
  DynamoDbLocal& operator=(const DynamoDbLocal&) = delete;

  unsigned short port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  unsigned short port_ = 0;
  std::string scratch_;
  pid_t pid_ = -1;
};

// One for the whole test run, started on first use (a JVM takes seconds to
// start); each test makes tables of its own in it.
DynamoDbLocal& shared_dynamodb_local();
// A table name no other test of this run uses.
std::string fresh_dynamodb_table_name();

// Where the jar is; empty when it is not installed.
std::string dynamodb_local_jar();

}  // namespace callgate::testing
