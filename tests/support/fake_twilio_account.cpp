#include "fake_twilio_account.hpp"

#include "core/crypto.hpp"
#include "http/form/form_codec.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <ctime>

namespace callgate::testing {

namespace {

std::string rfc2822_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return text;
}

ScriptedAnswer refused(const std::string& why) {
  boost::json::object body;
  body["code"] = 20001;
  body["message"] = why;
  return ScriptedAnswer(400, boost::json::serialize(body));
}

}  // namespace

struct FakeTwilioAccount::Ledger {
  std::string account_sid_;
  std::string authorization_;
  mutable std::mutex mutex_;
  std::function<Fate(const std::string&, std::size_t)> fate_;
  struct Call {
    std::string sid;
    std::string to;
    std::string date_created;  // RFC 2822, as Twilio writes it
    std::chrono::steady_clock::time_point asked;
  };
  std::vector<Call> calls_;
  std::size_t lookups_ = 0;
  std::vector<std::string> wrong_;
  std::chrono::milliseconds answer_delay_{0};

  ScriptedAnswer answer(const RecordedRequest& request);
};

FakeTwilioAccount::FakeTwilioAccount(FakeProviderServer& server, std::string account_sid, std::string auth_token)
    : ledger_(std::make_shared<Ledger>()) {
  ledger_->account_sid_ = std::move(account_sid);
  ledger_->authorization_ = "Basic " + base64_encode(ledger_->account_sid_ + ":" + auth_token);
  ledger_->fate_ = [](const std::string&, std::size_t) { return Fate::answer; };
  server.respond_with([ledger = ledger_](const RecordedRequest& request) { return ledger->answer(request); });
}

void FakeTwilioAccount::decide(std::function<Fate(const std::string&, std::size_t)> fate) {
  std::lock_guard lock(ledger_->mutex_);
  ledger_->fate_ = std::move(fate);
}

ScriptedAnswer FakeTwilioAccount::Ledger::answer(const RecordedRequest& request) {
  std::lock_guard lock(mutex_);
  const std::string calls_path = "/2010-04-01/Accounts/" + account_sid_ + "/Calls.json";
  auto wrong = [&](const std::string& why) {
    wrong_.push_back(request.method + " " + request.target + ": " + why);
    return refused(why);
  };
  if (request.header("Authorization") != authorization_) return wrong("wrong Authorization");
  if (request.header("Accept") != "application/json") return wrong("Accept is not application/json");
  if (request.method == "POST" && request.target == calls_path) {
    if (request.header("Content-Type") != "application/x-www-form-urlencoded") return wrong("wrong Content-Type");
    const auto form = http::parse_form(request.body);
    if (!form) return wrong("the body is not a form");
    std::string to;
    for (const auto& [name, value] : *form)
      if (name == "To") to = value;
    if (to.empty() || to[0] != '+') return wrong("no E.164 To");
    std::size_t so_far = 0;
    for (const auto& call : calls_) so_far += call.to == to;
    const auto fate = fate_(to, so_far);
    ScriptedAnswer dropped;
    dropped.drop_after_request = true;
    if (fate == Fate::drop_without_creating) return dropped;
    char sid[40];
    std::snprintf(sid, sizeof sid, "CA%032zx", calls_.size() + 1);
    calls_.push_back({sid, to, rfc2822_now(), std::chrono::steady_clock::now()});
    if (fate == Fate::create_then_drop) return dropped;
    boost::json::object body;
    body["sid"] = sid;
    body["status"] = "queued";
    body["to"] = to;
    ScriptedAnswer created(201, boost::json::serialize(body));
    created.delay = answer_delay_;
    return created;
  }
  const std::string list_prefix = calls_path + "?To=";
  if (request.method == "GET" && request.target.starts_with(list_prefix)) {
    if (!request.body.empty()) return wrong("a GET with a body");
    const auto query = request.target.substr(calls_path.size() + 1);
    const auto fields = http::parse_form(query);
    std::string to;
    if (fields)
      for (const auto& [name, value] : *fields)
        if (name == "To") to = value;
    if (to.empty()) return wrong("no To in the query");
    ++lookups_;
    boost::json::array listed;
    for (auto call = calls_.rbegin(); call != calls_.rend(); ++call) {  // newest first, as Twilio lists
      if (call->to != to) continue;
      boost::json::object entry;
      entry["sid"] = call->sid;
      entry["to"] = call->to;
      entry["status"] = "queued";
      entry["date_created"] = call->date_created;
      listed.push_back(std::move(entry));
    }
    boost::json::object body;
    body["calls"] = std::move(listed);
    body["page"] = 0;
    return ScriptedAnswer(200, boost::json::serialize(body));
  }
  return wrong("not an endpoint of Twilio's Calls");
}

void FakeTwilioAccount::answer_after(std::chrono::milliseconds delay) {
  std::lock_guard lock(ledger_->mutex_);
  ledger_->answer_delay_ = delay;
}

std::size_t FakeTwilioAccount::calls_to(const std::string& number) const {
  std::lock_guard lock(ledger_->mutex_);
  std::size_t count = 0;
  for (const auto& call : ledger_->calls_) count += call.to == number;
  return count;
}

std::map<std::string, std::size_t> FakeTwilioAccount::calls_by_number() const {
  std::lock_guard lock(ledger_->mutex_);
  std::map<std::string, std::size_t> counts;
  for (const auto& call : ledger_->calls_) ++counts[call.to];
  return counts;
}

std::size_t FakeTwilioAccount::lookups() const {
  std::lock_guard lock(ledger_->mutex_);
  return ledger_->lookups_;
}

std::vector<std::chrono::steady_clock::time_point> FakeTwilioAccount::call_times() const {
  std::lock_guard lock(ledger_->mutex_);
  std::vector<std::chrono::steady_clock::time_point> times;
  for (const auto& call : ledger_->calls_) times.push_back(call.asked);
  return times;
}

std::vector<std::string> FakeTwilioAccount::wrong_requests() const {
  std::lock_guard lock(ledger_->mutex_);
  return ledger_->wrong_;
}

}  // namespace callgate::testing
