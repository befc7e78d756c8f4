#include "core/redis/redis_connection.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <charconv>

namespace callgate::redis {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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
};

namespace {

using Link = Connection::Link;

Reply copy_reply(const redisReply* reply) {
  Reply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::string; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::status; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::error; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::integer; out.integer = reply->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      for (std::size_t index = 0; index < reply->elements; ++index) out.elements.push_back(copy_reply(reply->element[index]));
      break;
    default: out.type = Reply::Type::nil;
  }
  return out;
}

void arm_read(const std::shared_ptr<Link>& link);
void arm_write(const std::shared_ptr<Link>& link);

void arm_read(const std::shared_ptr<Link>& link) {
  if (link->read_armed || !link->socket || !link->reading) return;
  link->read_armed = true;
  link->socket->async_wait(asio::posix::stream_descriptor::wait_read, [link](boost::system::error_code error) {
    link->read_armed = false;
    if (error || link->context == nullptr) return;
    redisAsyncHandleRead(link->context);
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

// One command in flight: completed by its reply, a lost connection, or its deadline.
struct Pending {
  bool done = false;
  std::function<void(std::variant<Reply, Failure>)> complete;
  std::unique_ptr<asio::steady_timer> deadline;
};

void on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<std::shared_ptr<Pending>> owner(static_cast<std::shared_ptr<Pending>*>(privdata));
  auto& pending = **owner;
  if (pending.done) return;
  pending.done = true;
  if (pending.deadline) pending.deadline->cancel();
  if (reply == nullptr) pending.complete(Failure{"the Redis connection was lost"});
  else pending.complete(copy_reply(static_cast<redisReply*>(reply)));
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
  if (url->has_password()) options.password = url->password();
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
    : io_(io), options_(std::move(options)), on_connected_(std::move(on_connected)), link_(std::make_shared<Link>(io)),
      wake_(io) {
  // Only a connection the loop is watching over wakes it; a failed attempt
  // (which hiredis also reports as a disconnect) must not cut its back-off short.
  link_->on_lost = [this] {
    if (watching_) wake_.cancel();
  };
}

Connection::~Connection() { stop(); }

bool Connection::connected() const { return link_->context != nullptr && link_->ready; }

void Connection::start() { asio::co_spawn(io_, connect_loop(), asio::detached); }

void Connection::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  link_->on_lost = nullptr;
  if (link_->context != nullptr) {
    auto* context = link_->context;
    context->data = nullptr;
    redisAsyncFree(context);  // fails what is pending, then cleanup()
  }
  wake_.cancel();
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
  // every suspension, look at the flag before touching a member.
  const auto alive = alive_;
  auto backoff = options_.reconnect_min;
  while (!stopped_) {
    if (link_->context == nullptr) {
      connect_once();
      bool ok = link_->context != nullptr;
      // The first command also completes the non-blocking connect.
      if (ok && !options_.password.empty()) {
        std::vector<std::string> auth{std::string("AUTH"), options_.password};
        auto reply = co_await raw_command(std::move(auth));
        if (!*alive) co_return;
        ok = std::holds_alternative<Reply>(reply) && !std::get<Reply>(reply).is_error();
      }
      if (ok) {
        std::vector<std::string> select{std::string("SELECT"), std::to_string(options_.database)};
        auto reply = co_await raw_command(std::move(select));
        if (!*alive) co_return;
        ok = std::holds_alternative<Reply>(reply) && !std::get<Reply>(reply).is_error();
      }
      if (ok && on_connected_) ok = co_await on_connected_(*this);
      if (!*alive || stopped_) co_return;
      if (ok) {
        link_->ready = true;
        backoff = options_.reconnect_min;
        LogLine(LogLevel::info, "redis_connected").trusted_text("host", options_.host).number("port", options_.port);
      } else {
        if (link_->context != nullptr) {
          auto* context = link_->context;
          redisAsyncFree(context);
        }
        LogLine(LogLevel::warn, "redis_connect_failed")
            .trusted_text("host", options_.host)
            .number("port", options_.port)
            .number("retry_in_ms", backoff.count());
        wake_.expires_after(backoff);
        co_await wake_.async_wait(use_tuple);
        if (!*alive) co_return;
        backoff = std::min(backoff * 2, options_.reconnect_max);
        continue;
      }
    }
    // Connected: sleep until the connection is lost (the timer is cancelled).
    wake_.expires_at(asio::steady_timer::time_point::max());
    watching_ = link_->context != nullptr;
    if (watching_) co_await wake_.async_wait(use_tuple);
    if (!*alive) co_return;
    watching_ = false;
    if (stopped_) co_return;
    if (link_->context == nullptr) {
      LogLine(LogLevel::warn, "redis_disconnected").trusted_text("host", options_.host).number("port", options_.port);
      wake_.expires_after(backoff);
      co_await wake_.async_wait(use_tuple);
      if (!*alive) co_return;
    }
  }
}

awaitable<std::variant<Reply, Failure>> Connection::command(std::vector<std::string> arguments) {
  if (!connected()) co_return Failure{"Redis is not connected"};
  co_return co_await raw_command(std::move(arguments));
}

awaitable<std::variant<Reply, Failure>> Connection::raw_command(std::vector<std::string> arguments) {
  if (link_->context == nullptr) co_return Failure{"Redis is not connected"};
  auto pending = std::make_shared<Pending>();
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const auto& argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  auto result = co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::variant<Reply, Failure>)>(
      [&](auto handler) {
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        pending->complete = [this, shared_handler](std::variant<Reply, Failure> outcome) {
          // Resumed from the loop, never from inside hiredis's callback.
          asio::post(io_, [shared_handler, outcome = std::move(outcome)]() mutable { (*shared_handler)(std::move(outcome)); });
        };
        auto* privdata = new std::shared_ptr<Pending>(pending);
        if (redisAsyncCommandArgv(link_->context, on_reply, privdata, static_cast<int>(pointers.size()), pointers.data(),
                                  lengths.data()) != REDIS_OK) {
          delete privdata;
          pending->done = true;
          pending->complete(Failure{"Redis refused the command (connection closing)"});
          return;
        }
        pending->deadline = std::make_unique<asio::steady_timer>(io_, options_.command_timeout);
        pending->deadline->async_wait([this, pending, link = link_](boost::system::error_code error) {
          if (error || pending->done) return;
          pending->done = true;
          pending->complete(Failure{"Redis did not answer within " + std::to_string(options_.command_timeout.count()) + " ms"});
          // A late reply would be taken for the next command's: start afresh.
          if (link->context != nullptr && !stopped_) {
            auto* context = link->context;
            redisAsyncFree(context);
            wake_.cancel();
          }
        });
      },
      asio::use_awaitable);
  co_return result;
}

}  // namespace callgate::redis
