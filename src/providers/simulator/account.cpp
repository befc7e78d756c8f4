#include "providers/simulator/account.hpp"

#include "core/crypto.hpp"
#include "core/lead/phone_number.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "http/form/form_codec.hpp"
#include "providers/simulator/call_flow.hpp"
#include "providers/simulator/client.hpp"
#include "providers/simulator/settings.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace callgate::providers::simulator {

namespace asio = boost::asio;
namespace json = boost::json;
namespace beast_http = boost::beast::http;
using asio::awaitable;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kListedCalls = 10'000;  // the newest calls GET /simulator/calls can find
constexpr std::size_t kCallsPerListing = 50;
constexpr int kDeliveryTries = 3;  // a callback the daemon could not take is sent again

// Twilio's error shape, so the provider side reads it as it reads Twilio's.
http::Response account_error(http::Status status, int code, std::string_view message) {
  json::object body{{"code", code}, {"message", message}, {"status", static_cast<int>(status)}};
  return http::make_json_response(status, json::serialize(body));
}

bool authorized(const http::RequestContext& context) {
  const auto header = context.request[beast_http::field::authorization];
  if (!header.starts_with("Basic ")) return false;
  const auto decoded = base64_decode(header.substr(6));
  const auto& token = settings_of(context.config).auth_token;
  return decoded && !token.empty() && equal_in_constant_time(*decoded, std::string(kAccountUser) + ":" + token);
}

// Already in E.164, as a provider's API wants it (the enquiry's own rules).
bool is_e164(std::string_view number) {
  const auto normalized = normalize_phone_number(number, "1");
  const auto* phone = std::get_if<PhoneNumber>(&normalized);
  return phone && phone->e164 == number;
}

// The simulator calls back only into this daemon.
bool is_ours(std::string_view url, const Config& config) {
  const auto& base = config.server.public_base_url;
  return url.size() > base.size() && url.starts_with(base) && url[base.size()] == '/';
}

bool expected_answer(std::string_view kind, const http::ClientResponse& response) {
  if (response.failure != TransportFailure::none) return false;
  if (kind == "callback") return response.status == 204 || response.status == 200;
  return !twiml_problem(response.status, response.content_type, response.body);
}

}  // namespace

AccountMetricIds declare_account_metrics(MetricsRegistry& registry) {
  return {
      registry.declare_counter("callgate_simulator_calls_total", "Calls the simulator took, by the outcome it drew."),
      registry.declare_counter("callgate_simulator_requests_total",
                               "Requests the simulator made to this daemon (callback, call_flow, gather), by "
                               "whether the answer was the one a provider expects (ok, unexpected, failed).")};
}

SimulatedAccount::SimulatedAccount(AccountMetricIds ids, std::uint64_t seed)
    : ids_(ids), random_(seed != 0 ? seed : std::random_device{}()), seed_(seed != 0 ? seed : random_()) {}

SimulatedAccount::~SimulatedAccount() { stopped_.stop(); }

void SimulatedAccount::attach(asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics) {
  lanes_.push_back(Lane{&reactor, &client, &metrics});
}

SimulatedAccount::Lane* SimulatedAccount::lane_for(asio::io_context& io) {
  for (auto& lane : lanes_)
    if (lane.io == &io) return &lane;
  return nullptr;
}

void SimulatedAccount::register_endpoints(http::HttpRouter& router) {
  router.add(http::Verb::post, std::string(kCallsPath),
             [this](http::RequestContext& context) { return create_call(context); });
  router.add(http::Verb::get, std::string(kCallsPath),
             [this](http::RequestContext& context) { return list_calls(context); });
}

awaitable<http::Response> SimulatedAccount::create_call(http::RequestContext& context) {
  if (!authorized(context)) co_return account_error(http::Status::unauthorized, 20003, "Authenticate");
  const auto fields = http::parse_form(context.request.body());
  if (!fields) co_return account_error(http::Status::bad_request, 21200, "the body is not a form");
  auto field = [&](std::string_view name) { return std::string(http::form_value(*fields, name).value_or("")); };

  SimulatedCall call;
  call.to = field("To");
  call.from = field("From");
  call.call_flow_url = field("Url");
  call.status_callback = field("StatusCallback");
  if (!is_e164(call.to))
    co_return account_error(http::Status::bad_request, 21211, "The 'To' number is not a valid phone number.");
  if (call.from.empty()) co_return account_error(http::Status::bad_request, 21212, "A 'From' number is required.");
  const auto& config = context.config;
  if (!is_ours(call.call_flow_url, config) || !is_ours(call.status_callback, config))
    co_return account_error(http::Status::bad_request, 21205,
                            "Url and StatusCallback must be URLs under server.public_base_url");
  Lane* lane = lane_for(context.shard.io());
  if (lane == nullptr)
    co_return account_error(http::Status::service_unavailable, 20500, "the simulator is not attached here");
  if (playing_->load() >= kMaxCallsPlaying) {
    auto refusal = account_error(http::Status::too_many_requests, 20429, "Too many calls are playing");
    refusal.set(beast_http::field::retry_after, "1");
    co_return refusal;
  }

  call.created = WallClock::now();
  std::uint64_t seed = 0;
  {
    std::lock_guard lock(mutex_);
    call.sid = new_call_sid(random_);
    seed = seed_ + calls_taken_++;
    calls_.push_back({call.sid, call.to, call.from, "queued", call.created});
    if (calls_.size() > kListedCalls) calls_.pop_front();
  }
  auto script = write_call_script(settings_of(config), call, seed);
  lane->metrics->counter(ids_.calls, {{"outcome", std::string(to_string(script.outcome))}}).increment();

  json::object body{{"sid", call.sid},   {"status", "queued"},         {"to", call.to},
                    {"from", call.from}, {"account_sid", kAccountSid}, {"date_created", format_rfc2822(call.created)}};
  playing_->fetch_add(1);
  spawn_task(context.shard.io(), play(call, std::move(script), context.shard.config(), lane),
             "simulator playing a call");
  co_return http::make_json_response(http::Status::created, json::serialize(body));
}

awaitable<http::Response> SimulatedAccount::list_calls(http::RequestContext& context) {
  if (!authorized(context)) co_return account_error(http::Status::unauthorized, 20003, "Authenticate");
  const auto to = http::query_parameter(context.request, "To").value_or("");
  json::array listed;
  {
    std::lock_guard lock(mutex_);
    for (auto call = calls_.rbegin(); call != calls_.rend() && listed.size() < kCallsPerListing; ++call)
      if (to.empty() || call->to == to)
        listed.push_back(json::object{{"sid", call->sid},
                                      {"to", call->to},
                                      {"from", call->from},
                                      {"status", call->status},
                                      {"date_created", format_rfc2822(call->created)}});
  }
  co_return http::make_json_response(http::Status::ok, json::serialize(json::object{{"calls", std::move(listed)}}));
}

void SimulatedAccount::set_listed_status(const std::string& sid, std::string status) {
  std::lock_guard lock(mutex_);
  for (auto call = calls_.rbegin(); call != calls_.rend(); ++call)
    if (call->sid == sid) {
      call->status = std::move(status);
      return;
    }
}

awaitable<http::ClientResponse> SimulatedAccount::send(const http::ClientRequest& request, std::string_view kind,
                                                       Lane* lane) {
  auto response = co_await lane->client->send(request);
  const bool ok = expected_answer(kind, response);
  const auto result = ok ? "ok" : response.failure != TransportFailure::none ? "failed" : "unexpected";
  lane->metrics->counter(ids_.requests, {{"kind", std::string(kind)}, {"result", result}}).increment();
  if (!ok)
    LogLine(LogLevel::warn, "simulator_request_answered_unexpectedly")
        .trusted_text("kind", kind)
        .trusted_text("status", std::to_string(response.status))
        .text("failure", response.failure_reason);
  co_return response;
}

awaitable<void> SimulatedAccount::play(SimulatedCall call, CallScript script, std::shared_ptr<const Config> config,
                                       Lane* lane) {
  const auto stopped = stopped_.token();
  // Counted down however the call ends (a stop included).
  const std::shared_ptr<void> done(nullptr, [playing = playing_](void*) { playing->fetch_sub(1); });
  const auto started = std::chrono::steady_clock::now();
  asio::steady_timer timer(*lane->io);
  auto wait_until = [&](milliseconds at) -> awaitable<bool> {
    timer.expires_at(started + at);
    boost::system::error_code error;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
    co_return !stopped.stopped();
  };

  set_listed_status(call.sid, "initiated");
  for (const auto& step : script.steps) {
    if (!co_await wait_until(step.at)) co_return;
    if (step.kind == StepKind::callback) {
      for (int attempt = 1; attempt <= kDeliveryTries; ++attempt) {
        const auto answer = co_await send(step.request, "callback", lane);
        if (stopped.stopped()) co_return;
        // The daemon refused to keep it (503) or could not be reached: a
        // provider delivers again; anything else is the answer it gets.
        if (answer.failure == TransportFailure::none && answer.status < 500) break;
        if (attempt < kDeliveryTries && !co_await wait_until(step.at + milliseconds(1'000 * attempt))) co_return;
      }
      continue;
    }
    // The customer answered: Twilio fetches the call flow; a caller at a
    // <Gather> presses their keys a moment later, while the call's own
    // callbacks go on.
    const auto answer = co_await send(step.request, "call_flow", lane);
    if (stopped.stopped()) co_return;
    if (const auto problem = twiml_problem(answer.status, answer.content_type, answer.body)) {
      if (answer.status == 200)
        LogLine(LogLevel::warn, "simulator_call_flow_not_twiml").trusted_text("problem", *problem);
      continue;
    }
    if (auto action = gather_action(answer.body); action && is_ours(*action, *config))
      spawn_task(*lane->io,
                 press_keys(build_gather_request(settings_of(*config), call, *action),
                            milliseconds(2'000) / settings_of(*config).speed, lane),
                 "simulator pressing keys");
  }
  set_listed_status(call.sid, std::string(to_string(final_status(script.outcome))));
}

awaitable<void> SimulatedAccount::press_keys(http::ClientRequest request, milliseconds after, Lane* lane) {
  const auto stopped = stopped_.token();
  asio::steady_timer timer(*lane->io, after);
  boost::system::error_code error;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
  if (!stopped.stopped()) co_await send(request, "gather", lane);
}

}  // namespace callgate::providers::simulator
