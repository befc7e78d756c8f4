#include "core/redis/redis_connection.hpp"

#include "core/any_completion.hpp"
#include "core/log.hpp"
#include "core/redis/redis_command.hpp"
#include "core/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <deque>

namespace callgate::redis {

namespace asio = boost::asio;
using asio::awaitable;

using Completion = AnyCompletion<void(std::variant<Reply, Failure>)>;

// A command sent and not yet answered.
struct InFlight {
  std::chrono::steady_clock::time_point deadline;
  Completion completion;
  bool timed_out = false;  // its deadline passed: it fails saying so, not "lost"
};

struct Connection::Link : std::enable_shared_from_this<Link> {
  explicit Link(asio::io_context& context_io) : io(context_io) {}
  asio::io_context& io;
  redisAsyncContext* context = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> socket;
  bool reading = false;
  bool writing = false;
  bool read_armed = false;
  bool write_armed = false;
  bool ready = false;
  std::function<void()> on_lost;  // wakes the connect loop
  // In the order sent, which is the order Redis answers in: hiredis calls
  // back once per command, with its reply or (connection gone) with none.
  std::deque<InFlight> in_flight;
  // Answered from inside hiredis; resumed once it has returned.
  std::vector<std::pair<Completion, std::variant<Reply, Failure>>> answered;
  std::string timeout_message;
  std::string wire;  // the command being written, reused
};

namespace {

using Link = Connection::Link;

void arm_read(const std::shared_ptr<Link>& link);
void arm_write(const std::shared_ptr<Link>& link);

// Resumes the commands hiredis answered (or failed) during the call that
// just returned. Their coroutines may send more commands: that is safe here,
// outside hiredis, and not inside its callback.
void resume_answered(Link& link) {
  while (!link.answered.empty()) {
    auto answered = std::move(link.answered);
    link.answered.clear();
    for (auto& [completion, outcome] : answered) std::move(completion)(std::move(outcome));
  }
}

// The same, from a place where resuming a coroutine now is not safe (the
// connection is being torn down): each is resumed later, from the loop.
void post_answered(Link& link) {
  for (auto& [completion, outcome] : link.answered)
    asio::post(link.io, [completion = std::move(completion), outcome = std::move(outcome)]() mutable {
      std::move(completion)(std::move(outcome));
    });
  link.answered.clear();
}

void arm_read(const std::shared_ptr<Link>& link) {
  if (link->read_armed || !link->socket || !link->reading) return;
  link->read_armed = true;
  link->socket->async_wait(asio::posix::stream_descriptor::wait_read, [link](boost::system::error_code error) {
    link->read_armed = false;
    if (error || link->context == nullptr) return;
    redisAsyncHandleRead(link->context);
    resume_answered(*link);
    arm_read(link);
  });
}

void arm_write(const std::shared_ptr<Link>& link) {
  if (link->write_armed || !link->socket || !link->writing) return;
  link->write_armed = true;
  link->socket->async_wait(asio::posix::stream_descriptor::wait_write, [link](boost::system::error_code error) {
    link->write_armed = false;
    if (error || link->context == nullptr) return;
    redisAsyncHandleWrite(link->context);
    resume_answered(*link);
    arm_write(link);
  });
}

Link* link_of(void* privdata) { return static_cast<Link*>(privdata); }

void add_read(void* privdata) {
  auto* link = link_of(privdata);
  link->reading = true;
  arm_read(link->shared_from_this());
}
void del_read(void* privdata) { link_of(privdata)->reading = false; }
void add_write(void* privdata) {
  auto* link = link_of(privdata);
  link->writing = true;
  arm_write(link->shared_from_this());
}
void del_write(void* privdata) { link_of(privdata)->writing = false; }
void cleanup(void* privdata) {
  auto* link = link_of(privdata);
  link->reading = link->writing = false;
  link->context = nullptr;
  link->ready = false;
  if (link->socket) {
    boost::system::error_code ignored;
    link->socket->cancel(ignored);
    link->socket->release();  // hiredis closes the socket, not Asio
    link->socket.reset();
  }
}

void on_disconnect(const redisAsyncContext* context, int) {
  auto* link = static_cast<Link*>(context->data);
  if (link == nullptr) return;
  link->ready = false;
  link->context = nullptr;  // hiredis frees it after this returns
  if (link->on_lost) asio::post(link->io, link->on_lost);
}

void on_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto& link = *static_cast<Link*>(privdata);
  if (link.in_flight.empty()) return;  // never: one callback per command sent
  auto& oldest = link.in_flight.front();
  if (reply != nullptr)
    link.answered.emplace_back(std::move(oldest.completion), copy_reply(static_cast<redisReply*>(reply)));
  else
    link.answered.emplace_back(std::move(oldest.completion),
                               Failure{oldest.timed_out ? link.timeout_message : "the Redis connection was lost"});
  link.in_flight.pop_front();
}

}  // namespace

std::optional<ConnectionOptions> parse_redis_url(std::string_view text) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url || url->scheme() != "redis" || url->host().empty()) return std::nullopt;
  ConnectionOptions options;
  options.host = url->host_address();
  if (url->has_port()) {
    unsigned port = 0;
    const auto digits = url->port();
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (error != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) return std::nullopt;
    options.port = static_cast<unsigned short>(port);
  }
  if (url->has_userinfo()) {
    options.username = url->user();
    if (url->has_password()) options.password = url->password();
    // An ACL user needs its password; `redis://user@host` is a typo, not a login.
    if (!options.username.empty() && options.password.empty()) return std::nullopt;
  }
  auto path = std::string(url->path());
  if (!path.empty() && path != "/") {
    unsigned database = 0;
    const std::string_view digits = std::string_view(path).substr(1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), database);
    if (error != std::errc{} || end != digits.data() + digits.size() || database > 1000) return std::nullopt;
    options.database = database;
  }
  return options;
}

Connection::Connection(asio::io_context& io, ConnectionOptions options,
                       std::function<awaitable<bool>(Connection&)> on_connected)
    : io_(io),
      options_(std::move(options)),
      on_connected_(std::move(on_connected)),
      link_(std::make_shared<Link>(io)),
      wake_(io),
      deadline_(io),
      stop_(io.get_executor()) {
  link_->timeout_message = "Redis did not answer within " + std::to_string(options_.command_timeout.count()) + " ms";
  // Only a connection the loop is watching over wakes it; a failed attempt
  // (which hiredis also reports as a disconnect) must not cut its back-off short.
  link_->on_lost = [this] {
    if (watching_) wake_.cancel();
  };
}

Connection::~Connection() { stop(); }

bool Connection::connected() const { return link_->context != nullptr && link_->ready; }

void Connection::start() {
  spawn_loop(
      io_, [this] { return connect_loop(); }, "Redis connection");
}

void Connection::stop() {
  if (stop_.stopped()) return;
  stop_.stop();
  link_->on_lost = nullptr;
  if (link_->context != nullptr) {
    auto* context = link_->context;
    context->data = nullptr;
    redisAsyncFree(context);  // fails what is in flight, then cleanup()
    post_answered(*link_);
  }
  wake_.cancel();
  deadline_.cancel();
}

void Connection::connect_once() {
  auto* context = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (context == nullptr) return;
  if (context->err) {
    redisAsyncFree(context);
    return;
  }
  context->data = link_.get();
  context->ev.data = link_.get();
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  redisAsyncSetDisconnectCallback(context, on_disconnect);
  link_->context = context;
  link_->socket = std::make_unique<asio::posix::stream_descriptor>(io_, context->c.fd);
}

awaitable<void> Connection::connect_loop() {
  // The Connection may be destroyed while this loop is suspended (stop()
  // cancels the wait, the owner frees it, the loop then resumes): after
  // every suspension, ask the token before touching a member.
  const auto stop = stop_.token();
  auto backoff = options_.reconnect_min;
  while (!stop.stopped()) {
    if (link_->context == nullptr) {
      connect_once();
      bool ok = link_->context != nullptr;
      // The first command also completes the non-blocking connect.
      if (ok && !options_.password.empty()) {
        std::vector<std::string> auth{std::string("AUTH")};
        if (!options_.username.empty()) auth.push_back(options_.username);
        auth.push_back(options_.password);
        auto reply = co_await raw_command(std::move(auth));
        if (stop.stopped()) co_return;
        ok = std::holds_alternative<Reply>(reply) && !std::get<Reply>(reply).is_error();
      }
      if (ok) {
        std::vector<std::string> select{std::string("SELECT"), std::to_string(options_.database)};
        auto reply = co_await raw_command(std::move(select));
        if (stop.stopped()) co_return;
        ok = std::holds_alternative<Reply>(reply) && !std::get<Reply>(reply).is_error();
      }
      if (ok && on_connected_) ok = co_await on_connected_(*this);
      if (stop.stopped()) co_return;
      if (ok) {
        link_->ready = true;
        has_connected_ = true;
        backoff = options_.reconnect_min;
        LogLine(LogLevel::info, "redis_connected").trusted_text("host", options_.host).number("port", options_.port);
      } else {
        if (link_->context != nullptr) {
          auto* context = link_->context;
          redisAsyncFree(context);
          resume_answered(*link_);
        }
        LogLine(LogLevel::warn, "redis_connect_failed")
            .trusted_text("host", options_.host)
            .number("port", options_.port)
            .number("retry_in_ms", backoff.count());
        wake_.expires_after(backoff);
        if (!co_await stop.wait(wake_)) co_return;
        backoff = std::min(backoff * 2, options_.reconnect_max);
        continue;
      }
    }
    // Connected: sleep until the connection is lost (the timer is cancelled).
    wake_.expires_at(asio::steady_timer::time_point::max());
    watching_ = link_->context != nullptr;
    if (watching_ && !co_await stop.wait(wake_)) co_return;
    watching_ = false;
    if (link_->context == nullptr) {
      LogLine(LogLevel::warn, "redis_disconnected").trusted_text("host", options_.host).number("port", options_.port);
      wake_.expires_after(backoff);
      if (!co_await stop.wait(wake_)) co_return;
    }
  }
}

namespace {

std::vector<std::string_view> views_of(const std::vector<std::string>& arguments) {
  return std::vector<std::string_view>(arguments.begin(), arguments.end());
}

}  // namespace

awaitable<std::variant<Reply, Failure>> Connection::command(std::vector<std::string> arguments) {
  const auto views = views_of(arguments);
  co_return co_await command(std::span<const std::string_view>(views));
}

awaitable<std::variant<Reply, Failure>> Connection::command(std::span<const std::string_view> arguments) {
  if (!connected()) co_return Failure{"Redis is not connected"};
  co_return co_await raw_command(arguments);
}

awaitable<std::variant<Reply, Failure>> Connection::raw_command(std::vector<std::string> arguments) {
  const auto views = views_of(arguments);
  co_return co_await raw_command(std::span<const std::string_view>(views));
}

awaitable<std::variant<Reply, Failure>> Connection::raw_command(std::span<const std::string_view> arguments) {
  if (link_->context == nullptr) co_return Failure{"Redis is not connected"};
  auto& wire = link_->wire;
  wire.clear();
  append_command(wire, arguments);
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::variant<Reply, Failure>)>(
      [this, &wire](auto handler) {
        if (redisAsyncFormattedCommand(link_->context, on_reply, link_.get(), wire.data(), wire.size()) != REDIS_OK) {
          // Resumed from the loop: a coroutine is not resumed from inside its own co_await.
          asio::post(io_, [handler = std::move(handler)]() mutable {
            std::move(handler)(Failure{"Redis refused the command (connection closing)"});
          });
          return;
        }
        link_->in_flight.push_back(
            InFlight{std::chrono::steady_clock::now() + options_.command_timeout, Completion(std::move(handler))});
        watch_oldest_deadline();
      },
      asio::use_awaitable);
}

void Connection::watch_oldest_deadline() {
  if (deadline_armed_ || link_->in_flight.empty()) return;
  deadline_armed_ = true;
  deadline_.expires_at(link_->in_flight.front().deadline);
  deadline_.async_wait([this, stop = stop_.token()](boost::system::error_code error) {
    if (stop.stopped()) return;
    deadline_armed_ = false;
    if (!error) oldest_deadline_reached();
  });
}

void Connection::oldest_deadline_reached() {
  auto& in_flight = link_->in_flight;
  if (in_flight.empty()) return;
  // The command the timer was set for was answered meanwhile: watch the
  // oldest one now in flight.
  if (in_flight.front().deadline > std::chrono::steady_clock::now()) return watch_oldest_deadline();
  in_flight.front().timed_out = true;
  // A late reply would be taken for the next command's: start afresh (which
  // fails every command in flight).
  if (link_->context != nullptr && !stop_.stopped()) {
    auto* context = link_->context;
    redisAsyncFree(context);
    // Wake the connect loop before resuming anyone: a loop resumed here (its
    // own AUTH or SELECT timed out) goes on to wait out its back-off, which
    // this must not cut short.
    wake_.cancel();
    resume_answered(*link_);
  }
}

}  // namespace callgate::redis
