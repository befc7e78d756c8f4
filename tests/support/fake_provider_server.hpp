// A stand-in for a provider's REST API on a loopback port: real TLS (or
// plain HTTP), every request kept whole so a test can check each byte, and
// answers scripted per request: a status and body, a delay, or a dropped
// connection. Runs on its own thread; stops when destroyed.
#pragma once

#include "test_certificates.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace callgate::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;

  std::string header(std::string_view name) const;  // first value, case-insensitive; empty if absent
};

struct ScriptedAnswer {
  ScriptedAnswer() = default;
  ScriptedAnswer(unsigned status_code, std::string body_text, std::string type = "application/json",
                 std::vector<std::pair<std::string, std::string>> extra_headers = {})
      : status(status_code),
        body(std::move(body_text)),
        content_type(std::move(type)),
        headers(std::move(extra_headers)) {}

  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering
  bool drop_after_request = false;     // read the whole request, then close without a word
};

class FakeProviderServer {
 public:
  // tls: serve HTTPS with certificates; otherwise plain HTTP.
  explicit FakeProviderServer(const TestCertificates* certificates);
  ~FakeProviderServer();
  FakeProviderServer(const FakeProviderServer&) = delete;
  FakeProviderServer& operator=(const FakeProviderServer&) = delete;

  unsigned short port() const { return port_; }
  // Answers are used in order; with none left, the responder answers (or,
  // without one, a 500).
  void script(ScriptedAnswer answer);
  // Answers every request no scripted answer is left for; called on the
  // server's thread, one request at a time.
  void respond_with(std::function<ScriptedAnswer(const RecordedRequest&)> responder);
  std::vector<RecordedRequest> requests() const;
  std::size_t connections_accepted() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace callgate::testing
