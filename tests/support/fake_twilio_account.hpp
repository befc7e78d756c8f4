// A fake Twilio account on a FakeProviderServer: it keeps the calls it is
// asked to create and lists them back (GET Calls.json?To=), as Twilio does,
// so a test can count the calls each number got and the dialer can settle
// ambiguous placements against it. Every request is checked (method, path,
// credentials, content type, the form's To); one that is not exactly what
// Twilio expects is answered 400 and counted as wrong.
#pragma once

#include "fake_provider_server.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace callgate::testing {

class FakeTwilioAccount {
 public:
  // How a create request is taken: the call made and answered, made but the
  // answer lost (the connection dropped: ambiguous to the caller), or
  // dropped before anything was made.
  enum class Fate { answer, create_then_drop, drop_without_creating };

  FakeTwilioAccount(FakeProviderServer& server, std::string account_sid, std::string auth_token);

  // Decides each create request's fate from the number and how many calls
  // it already has (default: always answer).
  void decide(std::function<Fate(const std::string& to, std::size_t calls_so_far)> fate);

  // Answers to create requests come this much later (the call exists meanwhile).
  void answer_after(std::chrono::milliseconds delay);

  std::size_t calls_to(const std::string& number) const;
  std::map<std::string, std::size_t> calls_by_number() const;
  std::size_t lookups() const;  // GET list requests served
  // When each call was asked for (create requests made into calls), in order.
  std::vector<std::chrono::steady_clock::time_point> call_times() const;
  std::vector<std::string> wrong_requests() const;  // what was wrong with each refused one

 private:
  // Shared with the server's responder, which may still run while this
  // object is being destroyed.
  struct Ledger;
  std::shared_ptr<Ledger> ledger_;
};

}  // namespace callgate::testing
