#include "core/redis/redis_connection.hpp"

#include "core/any_completion.hpp"
#include "core/log.hpp"
#include "core/redis/redis_command.hpp"
#include "core/spawn.hpp"
#include "core/tls_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <array>
#include <atomic>
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

namespace {

// One connection's socket, and what its operations in progress use. Shared
// with their handlers, so a connection dropped (or replaced by the next
// one) while a read or write is pending stays alive until it completes.
struct Wire {
  explicit Wire(asio::io_context& io) : resolver(io), tcp(io), connect_deadline(io) {}
  asio::ip::tcp::resolver resolver;
  asio::ip::tcp::socket tcp;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;  // over tcp, for rediss://
  asio::steady_timer connect_deadline;
  bool connect_settled = false;
  std::string sending;  // the bytes of the write under way
  std::array<char, 16 * 1024> inbox;
};

}  // namespace

struct Connection::Link : std::enable_shared_from_this<Link> {
  explicit Link(asio::io_context& context_io) : io(context_io) {}
  ~Link() {
    if (reader != nullptr) redisReaderFree(reader);
  }
  asio::io_context& io;
  std::shared_ptr<Wire> wire;        // the open connection; none while down
  std::shared_ptr<Wire> connecting;  // the one being made, which stop() cuts off
  redisReader* reader = nullptr;     // this connection's replies, as they arrive
  bool ready = false;                // AUTH, SELECT and on_connected done
  bool writing = false;
  std::string outbox;             // commands sent while a write was under way
  std::function<void()> on_lost;  // wakes the connect loop
  // In the order sent, which is the order Redis answers in.
  std::deque<InFlight> in_flight;
  // Answered or failed while reading; resumed once the reader is done.
  std::vector<std::pair<Completion, std::variant<Reply, Failure>>> answered;
  std::string timeout_message;
  std::string lost_because;  // the socket's error that ended the last connection, for the log
  // What went over this connection, for /metrics (read from other threads).
  std::atomic<std::int64_t> commands{0};
  std::atomic<std::int64_t> bytes_sent{0};
  std::atomic<std::int64_t> bytes_received{0};
};

namespace {

using Link = Connection::Link;

// Resumes the commands answered (or failed) by the handler now running.
// Their coroutines may send more commands: that is safe here, once the
// reader and the in-flight queue are consistent again.
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

// Closes the connection: every command in flight fails (the one whose
// deadline passed saying so), and the connect loop is woken.
void drop_connection(Link& link) {
  if (!link.wire) return;
  boost::system::error_code ignored;
  link.wire->tcp.close(ignored);  // its pending operations end, aborted
  link.wire.reset();
  link.ready = false;
  link.writing = false;
  link.outbox.clear();
  if (link.reader != nullptr) {
    redisReaderFree(link.reader);
    link.reader = nullptr;
  }
  for (auto& command : link.in_flight)
    link.answered.emplace_back(std::move(command.completion),
                               Failure{command.timed_out ? link.timeout_message : "the Redis connection was lost"});
  link.in_flight.clear();
  if (link.on_lost) asio::post(link.io, link.on_lost);
}

void flush(const std::shared_ptr<Link>& link);

void read_more(const std::shared_ptr<Link>& link) {
  auto wire = link->wire;
  auto on_read = [link, wire](boost::system::error_code error, std::size_t size) {
    if (link->wire != wire) return;  // dropped meanwhile: its commands have failed already
    if (error) link->lost_because = error.message();
    link->bytes_received.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
    bool broken = error || redisReaderFeed(link->reader, wire->inbox.data(), size) != REDIS_OK;
    while (!broken) {
      void* reply = nullptr;
      if (redisReaderGetReply(link->reader, &reply) != REDIS_OK) {
        broken = true;  // not RESP: nothing after it can be trusted
        break;
      }
      if (reply == nullptr) break;
      if (link->in_flight.empty()) {  // a reply to nothing sent
        freeReplyObject(reply);
        broken = true;
        break;
      }
      link->answered.emplace_back(std::move(link->in_flight.front().completion),
                                  copy_reply(static_cast<redisReply*>(reply)));
      freeReplyObject(reply);
      link->in_flight.pop_front();
    }
    if (!broken && holds_too_much(link->reader)) {
      link->lost_because = "a reply longer than any callgate asks for";
      broken = true;
    }
    if (broken) drop_connection(*link);
    resume_answered(*link);
    if (link->wire == wire) read_more(link);
  };
  if (wire->tls)
    wire->tls->async_read_some(asio::buffer(wire->inbox), std::move(on_read));
  else
    wire->tcp.async_read_some(asio::buffer(wire->inbox), std::move(on_read));
}

// Writes what is waiting in the outbox, one write at a time: commands sent
// meanwhile gather there and go out together with the next.
void flush(const std::shared_ptr<Link>& link) {
  if (link->writing || link->outbox.empty() || !link->wire) return;
  auto wire = link->wire;
  link->writing = true;
  wire->sending.swap(link->outbox);
  link->outbox.clear();
  auto on_written = [link, wire](boost::system::error_code error, std::size_t) {
    if (link->wire != wire) return;
    link->writing = false;
    if (error) {
      link->lost_because = error.message();
      drop_connection(*link);
      resume_answered(*link);
      return;
    }
    flush(link);
  };
  if (wire->tls)
    asio::async_write(*wire->tls, asio::buffer(wire->sending), std::move(on_written));
  else
    asio::async_write(wire->tcp, asio::buffer(wire->sending), std::move(on_written));
}

std::unique_ptr<asio::ssl::context> make_tls_context(const ConnectionOptions& options) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  try {
    verify_servers(*context, options.ca_file);
  } catch (const std::exception& failure) {
    throw std::runtime_error(std::string("Redis TLS: ") + failure.what());
  }
  if (!options.cert_file.empty()) {
    boost::system::error_code error;
    context->use_certificate_chain_file(options.cert_file, error);
    if (!error) context->use_private_key_file(options.key_file, asio::ssl::context::pem, error);
    if (error)
      throw std::runtime_error("Redis TLS: cannot load the client certificate " + options.cert_file + " and key " +
                               options.key_file + ": " + error.message());
  }
  return context;
}

}  // namespace

std::optional<ConnectionOptions> parse_redis_url(std::string_view text) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url || (url->scheme() != "redis" && url->scheme() != "rediss") || url->host().empty()) return std::nullopt;
  ConnectionOptions options;
  options.tls = url->scheme() == "rediss";
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
      tls_(options_.tls ? make_tls_context(options_) : nullptr),
      link_(std::make_shared<Link>(io)),
      wake_(io),
      deadline_(io),
      stop_(io.get_executor()) {
  link_->timeout_message = "Redis did not answer within " + std::to_string(options_.command_timeout.count()) + " ms";
  // Only a connection the loop is watching over wakes it; a failed attempt
  // must not cut its back-off short.
  link_->on_lost = [this] {
    if (watching_) wake_.cancel();
  };
}

Connection::~Connection() { stop(); }

bool Connection::connected() const { return link_->wire != nullptr && link_->ready; }

Traffic Connection::traffic() const {
  return {link_->commands.load(std::memory_order_relaxed), link_->bytes_sent.load(std::memory_order_relaxed),
          link_->bytes_received.load(std::memory_order_relaxed)};
}

void Connection::start() {
  spawn_loop(
      io_, [this] { return connect_loop(); }, "Redis connection");
}

void Connection::stop() {
  if (stop_.stopped()) return;
  stop_.stop();
  link_->on_lost = nullptr;
  // A connection being made ends now, not at its deadline: a stop (the
  // daemon draining) does not wait out a Redis that does not answer.
  if (auto connecting = std::move(link_->connecting)) {
    connecting->resolver.cancel();
    boost::system::error_code ignored;
    connecting->tcp.close(ignored);
  }
  drop_connection(*link_);
  post_answered(*link_);
  wake_.cancel();
  deadline_.cancel();
}

awaitable<std::optional<std::string>> Connection::open_connection() {
  const auto stop = stop_.token();
  auto wire = std::make_shared<Wire>(io_);
  // One deadline for the lookup, the connect and the handshake: when it
  // passes, whichever is under way is cut off and fails.
  wire->connect_deadline.expires_after(options_.connect_timeout);
  wire->connect_deadline.async_wait([wire](boost::system::error_code error) {
    if (error || wire->connect_settled) return;
    wire->resolver.cancel();
    boost::system::error_code ignored;
    wire->tcp.close(ignored);
  });
  link_->connecting = wire;
  auto settle = [&wire, link = link_](std::optional<std::string> problem) {
    wire->connect_settled = true;
    wire->connect_deadline.cancel();
    if (link->connecting == wire) link->connecting.reset();
    return problem;
  };
  const auto timed_out = [&wire] { return wire->connect_deadline.expiry() <= asio::steady_timer::clock_type::now(); };

  auto [resolve_error, endpoints] = co_await wire->resolver.async_resolve(options_.host, std::to_string(options_.port),
                                                                          asio::as_tuple(asio::use_awaitable));
  if (stop.stopped()) co_return settle("stopped");
  if (resolve_error)
    co_return settle(timed_out() ? "the name did not resolve in time" : "cannot resolve: " + resolve_error.message());
  auto [connect_error, endpoint] =
      co_await asio::async_connect(wire->tcp, endpoints, asio::as_tuple(asio::use_awaitable));
  if (stop.stopped()) co_return settle("stopped");
  if (connect_error)
    co_return settle(timed_out() ? "no connection in time" : "cannot connect: " + connect_error.message());
  boost::system::error_code ignored;
  wire->tcp.set_option(asio::ip::tcp::no_delay(true), ignored);

  if (tls_) {
    wire->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(wire->tcp, *tls_);
    // The certificate must be for the host the URL names.
    const bool configured = expect_peer(wire->tls->native_handle(), options_.host);
    if (!configured) co_return settle("cannot set up TLS for " + options_.host);
    auto [handshake_error] =
        co_await wire->tls->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (stop.stopped()) co_return settle("stopped");
    if (handshake_error)
      co_return settle(timed_out() ? "no TLS handshake in time" : "TLS handshake: " + handshake_error.message());
  }
  settle(std::nullopt);
  link_->reader = make_bounded_reader();
  if (link_->reader == nullptr) co_return "no memory for a reply reader";
  link_->wire = wire;
  read_more(link_);
  co_return std::nullopt;
}

awaitable<void> Connection::connect_loop() {
  // The Connection may be destroyed while this loop is suspended (stop()
  // cancels the wait, the owner frees it, the loop then resumes): after
  // every suspension, ask the token before touching a member.
  const auto stop = stop_.token();
  auto backoff = options_.reconnect_min;
  while (!stop.stopped()) {
    if (link_->wire == nullptr) {
      link_->lost_because.clear();
      auto problem = co_await open_connection();
      if (stop.stopped()) co_return;
      if (!problem && !options_.password.empty()) {
        std::vector<std::string> auth{std::string("AUTH")};
        if (!options_.username.empty()) auth.push_back(options_.username);
        auth.push_back(options_.password);
        auto reply = co_await raw_command(std::move(auth));
        if (stop.stopped()) co_return;
        if (const auto* answer = std::get_if<Reply>(&reply); !answer || answer->is_error())
          problem = answer ? "AUTH refused: " + answer->text : std::get<Failure>(reply).message;
      }
      if (!problem) {
        std::vector<std::string> select{std::string("SELECT"), std::to_string(options_.database)};
        auto reply = co_await raw_command(std::move(select));
        if (stop.stopped()) co_return;
        if (const auto* answer = std::get_if<Reply>(&reply); !answer || answer->is_error())
          problem = answer ? "SELECT refused: " + answer->text : std::get<Failure>(reply).message;
      }
      if (!problem && on_connected_ && !co_await on_connected_(*this)) problem = "the store's set-up failed";
      // A TLS 1.3 server refuses a client certificate after the handshake:
      // the first command then finds the connection gone, and this says why.
      if (problem && !link_->lost_because.empty()) *problem += " (" + link_->lost_because + ")";
      if (stop.stopped()) co_return;
      if (!problem) {
        link_->ready = true;
        has_connected_ = true;
        backoff = options_.reconnect_min;
        LogLine(LogLevel::info, "redis_connected")
            .trusted_text("host", options_.host)
            .number("port", options_.port)
            .trusted_text("transport", options_.tls ? "tls" : "tcp");
      } else {
        drop_connection(*link_);
        resume_answered(*link_);
        LogLine(LogLevel::warn, "redis_connect_failed")
            .trusted_text("host", options_.host)
            .number("port", options_.port)
            .text("reason", *problem)
            .number("retry_in_ms", backoff.count());
        wake_.expires_after(backoff);
        if (!co_await stop.wait(wake_)) co_return;
        backoff = std::min(backoff * 2, options_.reconnect_max);
        continue;
      }
    }
    // Connected: sleep until the connection is lost (the timer is cancelled).
    wake_.expires_at(asio::steady_timer::time_point::max());
    watching_ = link_->wire != nullptr;
    if (watching_ && !co_await stop.wait(wake_)) co_return;
    watching_ = false;
    if (link_->wire == nullptr) {
      LogLine line(LogLevel::warn, "redis_disconnected");
      line.trusted_text("host", options_.host).number("port", options_.port);
      if (!link_->lost_because.empty()) line.text("reason", link_->lost_because);
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
  if (link_->wire == nullptr) co_return Failure{"Redis is not connected"};
  // Written into the outbox before the first suspension: the arguments need
  // only outlive the start of the co_await.
  const auto queued = link_->outbox.size();
  append_command(link_->outbox, arguments);
  link_->commands.fetch_add(1, std::memory_order_relaxed);
  link_->bytes_sent.fetch_add(static_cast<std::int64_t>(link_->outbox.size() - queued), std::memory_order_relaxed);
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::variant<Reply, Failure>)>(
      [this](auto handler) {
        link_->in_flight.push_back(
            InFlight{std::chrono::steady_clock::now() + options_.command_timeout, Completion(std::move(handler))});
        flush(link_);
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
  if (link_->wire != nullptr && !stop_.stopped()) {
    drop_connection(*link_);
    // Wake the connect loop before resuming anyone: a loop resumed here (its
    // own AUTH or SELECT timed out) goes on to wait out its back-off, which
    // this must not cut short.
    wake_.cancel();
    resume_answered(*link_);
  }
}

}  // namespace callgate::redis
