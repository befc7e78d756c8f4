// redis::Connection against a real redis-server: many commands in flight
// each get their own reply, a server that stops answering fails them at the
// deadline, and the connection is made again once it answers; over TLS
// (redis-server's --tls-port, certificates made by the test) the server is
// verified, a client certificate presented when asked, and a name resolved.
#include "core/redis/redis_connection.hpp"
#include "core/log.hpp"
#include "redis_server.hpp"
#include "test_certificates.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

namespace {

namespace asio = boost::asio;
using callgate::redis::Connection;
using callgate::redis::Failure;
using callgate::redis::Reply;
using Outcome = std::variant<Reply, Failure>;
using Clock = std::chrono::steady_clock;

// A connection on a loop of its own thread, as a reactor would have it.
struct ConnectedLoop {
  explicit ConnectedLoop(const callgate::testing::RedisServer& server, std::chrono::milliseconds timeout)
      : ConnectedLoop(*callgate::redis::parse_redis_url(server.url()), timeout) {}
  // expect_connection false: a connection that may never be made (a test
  // asks connected() itself).
  ConnectedLoop(callgate::redis::ConnectionOptions options, std::chrono::milliseconds timeout,
                bool expect_connection = true) {
    options.command_timeout = timeout;
    options.reconnect_min = std::chrono::milliseconds(20);
    options.reconnect_max = std::chrono::milliseconds(100);
    connection = std::make_unique<Connection>(io, options);
    asio::post(io, [this] { connection->start(); });
    if (expect_connection) BOOST_REQUIRE_MESSAGE(wait_until_connected(), "no connection to redis-server");
  }
  ~ConnectedLoop() {
    asio::post(io, [this] { connection.reset(); });
    work.reset();
    thread.join();
  }
  bool wait_until_connected() {
    for (int tries = 0; tries < 300; ++tries) {
      if (connection->connected()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Runs body on the loop and waits for what it returns.
  template <class Body>
  auto run(Body body) {
    return asio::co_spawn(io, body(), asio::use_future).get();
  }

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::unique_ptr<Connection> connection;
  std::thread thread{[this] { io.run(); }};
};

// One command, its arguments as views (the copy-free path the stores use).
asio::awaitable<Outcome> send(Connection& connection, std::vector<std::string_view> arguments) {
  co_return co_await connection.command(std::span<const std::string_view>(arguments));
}

std::vector<std::string_view> ping() { return {"PING"}; }

std::string text_of(const Outcome& outcome) {
  if (const auto* failure = std::get_if<Failure>(&outcome)) return "failure: " + failure->message;
  return std::get<Reply>(outcome).text;
}

using callgate::testing::test_certificates;

// A redis-server with a TLS port, its certificate for localhost and 127.0.0.1
// (or, elsewhere, for another host only), signed by the test CA.
callgate::testing::RedisTls server_tls(bool auth_clients, bool elsewhere = false) {
  const auto& made = test_certificates();
  return {elsewhere ? made.elsewhere_cert_file : made.server_cert_file,
          elsewhere ? made.elsewhere_key_file : made.server_key_file, made.ca_file, auth_clients};
}

// rediss:// to that port at host, trusting the test CA; with the client's
// certificate when asked.
callgate::redis::ConnectionOptions tls_client(const callgate::testing::RedisServer& server, const std::string& host,
                                              bool client_certificate) {
  auto options = *callgate::redis::parse_redis_url(server.tls_url(host));
  options.ca_file = test_certificates().ca_file;
  if (client_certificate) {
    options.cert_file = test_certificates().client_cert_file;
    options.key_file = test_certificates().client_key_file;
  }
  return options;
}

// The log lines written while it lives, for a test to read (a log sink is a plain function).
struct CapturedLog {
  CapturedLog() { callgate::set_log_sink(&capture); }
  ~CapturedLog() { callgate::set_log_sink(nullptr); }
  static void capture(std::string_view lines) {
    std::lock_guard lock(mutex);
    text.append(lines);
  }
  static bool holds(std::string_view words) {
    std::lock_guard lock(mutex);
    return text.find(words) != std::string::npos;
  }
  static inline std::mutex mutex;
  static inline std::string text;
};

// Whether the connection is made within a second (it retries every 100 ms).
bool connects_within_a_second(ConnectedLoop& loop) {
  for (int tries = 0; tries < 100; ++tries) {
    if (loop.connection->connected()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A server that speaks just enough RESP to be connected to (+OK to the
// SELECT), then answers a PING with `answer` (in 1 MB pieces, as a server
// streaming a long reply would); runs on a loop of its own, stopped with it.
asio::awaitable<void> answer_hostile(asio::ip::tcp::socket socket, const std::string& answer) {
  std::string seen;
  char chunk[4096];
  bool selected = false;
  for (;;) {
    auto [error, size] = co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    seen.append(chunk, size);
    if (!selected && seen.find("SELECT\r\n$1\r\n0\r\n") != std::string::npos) {
      selected = true;
      co_await asio::async_write(socket, asio::buffer(std::string_view("+OK\r\n")),
                                 asio::as_tuple(asio::use_awaitable));
    }
    if (seen.find("PING\r\n") != std::string::npos) break;
  }
  for (std::size_t at = 0; at < answer.size(); at += 1 << 20) {
    const auto piece = std::string_view(answer).substr(at, 1 << 20);
    auto [error, written] =
        co_await asio::async_write(socket, asio::buffer(piece), asio::as_tuple(asio::use_awaitable));
    if (error) co_return;  // the client hung up: what the test wants
  }
  // Then silence, the socket kept open, until the loop stops.
  co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> accept_hostile(asio::ip::tcp::acceptor& acceptor, const std::string& answer) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    asio::co_spawn(acceptor.get_executor(), answer_hostile(std::move(socket), answer), asio::detached);
  }
}

class HostileRedis {
 public:
  explicit HostileRedis(std::string answer) : answer_(std::move(answer)) {
    asio::co_spawn(io_, accept_hostile(acceptor_, answer_), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HostileRedis() {
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  std::string answer_;
  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread_;
};

// A PING to that server: what it got and how long it took; then, while
// the connection is still there to log it, whether the log came to say
// logged_words (empty: not asked).
struct HostilePing {
  Outcome outcome;
  Clock::duration took;
  bool logged = false;
};
HostilePing ping_hostile(const HostileRedis& server, std::string_view logged_words = {}) {
  auto options = *callgate::redis::parse_redis_url("redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  ConnectedLoop loop(options, std::chrono::seconds(20));
  const auto started = Clock::now();
  HostilePing result{loop.run([&] { return send(*loop.connection, ping()); }), Clock::now() - started};
  for (int tries = 0; tries < 300 && !logged_words.empty() && !result.logged; ++tries) {
    result.logged = CapturedLog::holds(logged_words);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_connection, *boost::unit_test::precondition(callgate::testing::RedisInstalled()))

BOOST_AUTO_TEST_CASE(each_of_many_commands_in_flight_gets_its_own_reply) {
  callgate::testing::RedisServer server;
  ConnectedLoop loop(server, std::chrono::milliseconds(5000));
  constexpr int kCommands = 400;
  // Each coroutine writes its own key and reads it back while all the others
  // are in flight on the one connection: a reply handed to the wrong command
  // shows up as another key's value.
  std::vector<std::string> read_back(kCommands);
  auto& connection = *loop.connection;
  std::vector<std::future<void>> done;
  for (int index = 0; index < kCommands; ++index)
    done.push_back(asio::co_spawn(
        loop.io,
        [&connection, &read_back, index]() -> asio::awaitable<void> {
          const std::string key = "k" + std::to_string(index);
          const std::string value = "value-" + std::to_string(index * 7919);
          std::vector<std::string> set{"SET", key, value};
          co_await connection.command(std::move(set));
          std::vector<std::string_view> get{"GET", key};
          read_back[static_cast<std::size_t>(index)] = text_of(co_await send(connection, std::move(get)));
        },
        asio::use_future));
  for (auto& future : done) future.get();
  for (int index = 0; index < kCommands; ++index)
    BOOST_TEST(read_back[static_cast<std::size_t>(index)] == "value-" + std::to_string(index * 7919));
}

BOOST_AUTO_TEST_CASE(commands_answered_in_time_never_trip_the_deadline) {
  callgate::testing::RedisServer server;
  ConnectedLoop loop(server, std::chrono::milliseconds(150));
  // Busy for four deadlines in a row, every command answered at once: the
  // one timer must follow the oldest command in flight, not the first sent.
  auto& connection = *loop.connection;
  const auto failures = loop.run([&connection]() -> asio::awaitable<int> {
    int failed = 0;
    const auto until = Clock::now() + std::chrono::milliseconds(600);
    while (Clock::now() < until) {
      if (std::holds_alternative<Failure>(co_await send(connection, ping()))) ++failed;
    }
    co_return failed;
  });
  BOOST_TEST(failures == 0);
  BOOST_TEST(connection.connected());
}

BOOST_AUTO_TEST_CASE(a_server_that_stops_answering_fails_commands_at_the_deadline_and_is_reconnected) {
  callgate::testing::RedisServer server;
  ConnectedLoop loop(server, std::chrono::milliseconds(200));
  auto& connection = *loop.connection;
  server.pause();
  const auto started = Clock::now();
  std::vector<std::future<Outcome>> pings;
  for (int index = 0; index < 3; ++index)
    pings.push_back(asio::co_spawn(
        loop.io, [&connection]() -> asio::awaitable<Outcome> { co_return co_await send(connection, ping()); },
        asio::use_future));
  std::vector<std::string> outcomes;
  for (auto& ping : pings) outcomes.push_back(text_of(ping.get()));
  const auto waited = Clock::now() - started;
  // The oldest says why; the others fail with the connection it took down.
  BOOST_TEST(outcomes[0] == "failure: Redis did not answer within 200 ms");
  BOOST_TEST(outcomes[1] == "failure: the Redis connection was lost");
  BOOST_TEST(outcomes[2] == "failure: the Redis connection was lost");
  BOOST_TEST(waited >= std::chrono::milliseconds(190));
  BOOST_TEST(waited < std::chrono::milliseconds(3000));

  server.resume();
  BOOST_TEST_REQUIRE(loop.wait_until_connected());
  const auto pong =
      loop.run([&connection]() -> asio::awaitable<Outcome> { co_return co_await send(connection, ping()); });
  BOOST_TEST(text_of(pong) == "PONG");
}

BOOST_AUTO_TEST_CASE(over_tls_pipelined_commands_and_large_replies_arrive_whole) {
  callgate::testing::RedisServer server("", server_tls(false));
  for (const std::string host : {"127.0.0.1", "localhost"}) {  // an address, and a name looked up on the loop
    ConnectedLoop loop(tls_client(server, host, false), std::chrono::milliseconds(5000));
    auto& connection = *loop.connection;
    // A value many TLS records long, and many commands in flight at once.
    const std::string large(300 * 1024, 'x');
    const auto read_back = loop.run([&connection, &large]() -> asio::awaitable<std::string> {
      std::vector<std::string> set{"SET", "large", large};
      co_await connection.command(std::move(set));
      std::vector<std::string_view> get{"GET", "large"};
      co_return text_of(co_await send(connection, std::move(get)));
    });
    BOOST_TEST(read_back.size() == large.size(), host);
    BOOST_TEST((read_back == large), host);
    std::vector<std::future<Outcome>> pings;
    for (int index = 0; index < 200; ++index)
      pings.push_back(asio::co_spawn(
          loop.io, [&connection]() -> asio::awaitable<Outcome> { co_return co_await send(connection, ping()); },
          asio::use_future));
    int pongs = 0;
    for (auto& pong : pings) pongs += text_of(pong.get()) == "PONG" ? 1 : 0;
    BOOST_TEST(pongs == 200, host);
  }
}

BOOST_AUTO_TEST_CASE(over_tls_a_server_that_is_not_the_one_named_or_not_vouched_for_is_refused) {
  // A certificate the test CA signed, but for another host.
  callgate::testing::RedisServer elsewhere("", server_tls(false, true));
  ConnectedLoop wrong_host(tls_client(elsewhere, "127.0.0.1", false), std::chrono::milliseconds(1000), false);
  BOOST_TEST(!connects_within_a_second(wrong_host));
  // The right host, but a CA file that does not vouch for it.
  callgate::testing::RedisServer server("", server_tls(false));
  auto untrusting = tls_client(server, "localhost", false);
  untrusting.ca_file = test_certificates().client_cert_file;  // a certificate, not the server's CA
  ConnectedLoop unverified(untrusting, std::chrono::milliseconds(1000), false);
  BOOST_TEST(!connects_within_a_second(unverified));
  // Plain RESP to the TLS port is no connection either.
  auto plain = tls_client(server, "127.0.0.1", false);
  plain.tls = false;
  ConnectedLoop cleartext(plain, std::chrono::milliseconds(1000), false);
  BOOST_TEST(!connects_within_a_second(cleartext));
  // And the same server, trusted, takes a connection (the refusals above were the certificates').
  ConnectedLoop trusted(tls_client(server, "localhost", false), std::chrono::milliseconds(1000), false);
  BOOST_TEST(connects_within_a_second(trusted));
}

BOOST_AUTO_TEST_CASE(with_tls_auth_clients_only_a_client_with_its_certificate_gets_in) {
  callgate::testing::RedisServer server("", server_tls(true));
  ConnectedLoop without(tls_client(server, "127.0.0.1", false), std::chrono::milliseconds(1000), false);
  BOOST_TEST(!connects_within_a_second(without));
  ConnectedLoop with(tls_client(server, "127.0.0.1", true), std::chrono::milliseconds(1000), false);
  BOOST_TEST_REQUIRE(connects_within_a_second(with));
  auto& connection = *with.connection;
  const auto pong =
      with.run([&connection]() -> asio::awaitable<Outcome> { co_return co_await send(connection, ping()); });
  BOOST_TEST(text_of(pong) == "PONG");
}

BOOST_AUTO_TEST_CASE(a_handshake_that_never_finishes_ends_at_the_connect_deadline_or_at_a_stop) {
  // A stopped redis-server: the kernel still accepts the connection, and
  // nobody ever answers the TLS handshake.
  callgate::testing::RedisServer server("", server_tls(false));
  server.pause();
  CapturedLog log;
  auto options = tls_client(server, "127.0.0.1", false);
  options.connect_timeout = std::chrono::milliseconds(300);
  {
    ConnectedLoop loop(options, std::chrono::milliseconds(1000), false);
    bool given_up = false;
    for (int tries = 0; tries < 300 && !given_up; ++tries) {
      given_up = CapturedLog::holds("no TLS handshake in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(given_up);
    BOOST_TEST(!loop.connection->connected());
  }
  // With a deadline far away, a stop (the daemon draining) ends the attempt
  // at once: the loop's thread is done long before the deadline.
  options.connect_timeout = std::chrono::seconds(30);
  const auto started = Clock::now();
  {
    ConnectedLoop loop(options, std::chrono::milliseconds(1000), false);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_TEST((Clock::now() - started < std::chrono::seconds(5)));
  server.resume();
}

BOOST_AUTO_TEST_CASE(a_host_name_connects_and_reconnects) {
  // "localhost" may resolve to ::1 first, where nobody listens: each attempt
  // looks the name up (on the loop's resolver) and tries every address it
  // gives, and a server restarted on the same port is found again through
  // the name. (That a changed name is followed rests on that lookup per
  // attempt; no test here changes what a name points at.)
  callgate::testing::RedisServer server;
  auto options = *callgate::redis::parse_redis_url("redis://localhost:" + std::to_string(server.port()) + "/0");
  ConnectedLoop loop(options, std::chrono::milliseconds(500));
  server.stop();
  for (int tries = 0; tries < 200 && loop.connection->connected(); ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(!loop.connection->connected());
  server.start();
  BOOST_TEST(loop.wait_until_connected());
}

BOOST_AUTO_TEST_CASE(a_reply_declaring_millions_of_elements_drops_the_connection_at_once) {
  // hiredis alone allocates 6 GB on reading "*777677777" (and then waits
  // for the elements): refused on the count, the command fails now, not
  // at its 20 s deadline.
  HostileRedis server("*777677777\r\n");
  const auto pinged = ping_hostile(server);
  BOOST_TEST(text_of(pinged.outcome) == "failure: the Redis connection was lost");
  BOOST_TEST((pinged.took < std::chrono::seconds(10)));
}

BOOST_AUTO_TEST_CASE(a_reply_without_end_is_cut_off_before_it_fills_memory) {
  // A bulk string declared at almost 1 GB, and 80 MB of it sent: the
  // reader lets 64 MB wait for the rest, no more.
  HostileRedis server("$999999999\r\n" + std::string(80u << 20, 'x'));
  CapturedLog log;
  const auto pinged = ping_hostile(server, "a reply longer than any callgate asks for");
  BOOST_TEST(text_of(pinged.outcome) == "failure: the Redis connection was lost");
  BOOST_TEST((pinged.took < std::chrono::seconds(10)));
  BOOST_TEST(pinged.logged, "redis_disconnected says why");
}

BOOST_AUTO_TEST_SUITE_END()
