#include "http/client/http_client.hpp"

#include "core/tls_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <algorithm>
#include <stdexcept>

namespace callgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

struct HttpClient::Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  Clock::time_point last_used;
  bool carried_request = false;  // false: opened ahead (keep_warm), only its handshake done

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // A pooled connection the server has closed (or started talking on
  // unasked, as a TLS close_notify does) must not carry a request: the
  // write could succeed into the kernel buffer and the answer never come,
  // which would make a safe retry look ambiguous.
  bool looks_closed() {
    pollfd state{tcp().socket().native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&state, 1, 0) < 0) return true;
    if (state.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;  // hung up, even with bytes left
    // Bytes waiting on a TLS connection that has only had its handshake are
    // a TLS 1.3 server's session tickets (read with the first answer); on
    // one that has carried a request they are the server talking unasked.
    if (state.revents & POLLIN) return !secure || carried_request;
    return false;
  }
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The time left before deadline, capped at limit; zero when it has passed.
std::chrono::milliseconds time_left(Clock::time_point deadline, Milliseconds limit) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left <= std::chrono::milliseconds::zero()) return std::chrono::milliseconds::zero();
  return std::min<std::chrono::milliseconds>(left, limit);
}

ClientResponse failed(TransportFailure failure, std::string reason) {
  ClientResponse response;
  response.failure = failure;
  response.failure_reason = std::move(reason);
  return response;
}

}  // namespace

HttpClient::HttpClient(asio::io_context& io, HttpClientConfig config)
    : io_(io), config_(std::move(config)), tls_(asio::ssl::context::tls_client) {
  verify_servers(tls_, config_.ca_file);
}

HttpClient::~HttpClient() = default;

std::size_t HttpClient::idle_connections() const {
  std::size_t count = 0;
  for (const auto& [key, pool] : pools_) count += pool.idle.size();
  return count;
}

void HttpClient::close_idle_connections() {
  for (auto& [key, pool] : pools_) {
    pool.open -= static_cast<unsigned>(pool.idle.size());
    pool.idle.clear();
  }
}

void HttpClient::give_back(Pool& pool, std::unique_ptr<Connection> connection) {
  connection->last_used = Clock::now();
  pool.idle.push_back(std::move(connection));
  if (!pool.waiters.empty()) {
    pool.waiters.front()->cancel();
    pool.waiters.pop_front();
  }
}

void HttpClient::forget(Pool& pool) {
  --pool.open;
  if (!pool.waiters.empty()) {
    pool.waiters.front()->cancel();
    pool.waiters.pop_front();
  }
}

awaitable<std::unique_ptr<HttpClient::Connection>> HttpClient::take_connection(const Origin& origin, Pool& pool,
                                                                               Deadline deadline,
                                                                               ClientResponse& failure) {
  for (;;) {
    while (!pool.idle.empty()) {
      auto connection = std::move(pool.idle.back());
      pool.idle.pop_back();
      if (Clock::now() - connection->last_used < config_.idle_timeout && !connection->looks_closed()) {
        ++statistics_.connections_reused;
        co_return connection;
      }
      --pool.open;
    }
    if (pool.open < config_.max_connections_per_host) {
      ++pool.open;
      auto connection = co_await connect(origin, deadline, failure);
      if (!connection) forget(pool);
      co_return connection;
    }
    // Full: wait until a connection comes back or is closed (the timer is
    // cancelled then), or until the deadline.
    auto waiter = std::make_shared<asio::steady_timer>(io_, deadline);
    pool.waiters.push_back(waiter);
    auto [error] = co_await waiter->async_wait(use_tuple);
    if (!error) {
      std::erase(pool.waiters, waiter);
      failure = failed(TransportFailure::before_sending,
                       "no connection to " + origin.host + " came free before the deadline");
      co_return nullptr;
    }
  }
}

awaitable<std::unique_ptr<HttpClient::Connection>> HttpClient::connect(const Origin& origin, Deadline deadline,
                                                                       ClientResponse& failure) {
  const auto connect_deadline = Clock::now() + time_left(deadline, config_.connect_timeout);
  const auto key = origin.host + ":" + origin.port;

  asio::ip::tcp::resolver::results_type addresses;
  if (auto cached = addresses_.find(key); cached != addresses_.end() && cached->second.expires > Clock::now()) {
    addresses = cached->second.results;
  } else {
    ++statistics_.dns_lookups;
    // The resolver has no deadline of its own; a timer cancels it. One
    // resolver per lookup, so the cancel reaches this lookup alone.
    asio::ip::tcp::resolver resolver(io_);
    asio::steady_timer timer(io_, connect_deadline);
    timer.async_wait([&resolver](boost::system::error_code error) {
      if (!error) resolver.cancel();
    });
    auto [error, results] = co_await resolver.async_resolve(origin.host, origin.port, use_tuple);
    timer.cancel();
    if (error || results.empty()) {
      failure = failed(TransportFailure::before_sending,
                       "cannot resolve " + origin.host + ": " + (error ? error.message() : "no addresses"));
      co_return nullptr;
    }
    addresses = results;
    addresses_[key] = {results, Clock::now() + config_.dns_cache_ttl};
  }

  auto connection = std::make_unique<Connection>();
  if (origin.tls)
    connection->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, tls_);
  else
    connection->plain = std::make_unique<beast::tcp_stream>(io_);

  auto& tcp = connection->tcp();
  tcp.expires_after(time_left(connect_deadline, config_.connect_timeout));
  auto [connect_error, endpoint] = co_await tcp.async_connect(addresses, use_tuple);
  if (connect_error) {
    addresses_.erase(key);  // the next try looks the name up again
    failure = failed(TransportFailure::before_sending,
                     "cannot connect to " + origin.host + ":" + origin.port + ": " + connect_error.message());
    co_return nullptr;
  }
  tcp.socket().set_option(asio::ip::tcp::no_delay(true));

  if (origin.tls) {
    const bool configured = expect_peer(connection->secure->native_handle(), origin.host);
    if (!configured) {
      failure = failed(TransportFailure::before_sending, "cannot set up TLS for " + origin.host);
      co_return nullptr;
    }
    tcp.expires_after(time_left(connect_deadline, config_.connect_timeout));
    auto [handshake_error] = co_await connection->secure->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (handshake_error) {
      failure = failed(TransportFailure::before_sending,
                       "TLS handshake with " + origin.host + " failed: " + handshake_error.message());
      co_return nullptr;
    }
  }
  ++statistics_.connections_opened;
  co_return connection;
}

awaitable<HttpClient::OpenedStream> HttpClient::open_stream(std::string url, std::chrono::milliseconds timeout) {
  OpenedStream opened;
  auto parsed = boost::urls::parse_absolute_uri(url);
  const auto origin = parsed ? origin_of(*parsed) : std::nullopt;
  if (!origin) {
    opened.failure = "not an absolute http(s) URL with a host";
    co_return opened;
  }
  ClientResponse failure;
  const auto deadline = Clock::now() + timeout;
  auto connection = co_await connect(*origin, deadline, failure);
  if (!connection) {
    opened.failure = failure.failure_reason;
    co_return opened;
  }
  opened.plain = std::move(connection->plain);
  opened.secure = std::move(connection->secure);
  co_return opened;
}

std::optional<HttpClient::Origin> HttpClient::origin_of(const boost::urls::url_view& url) {
  if ((url.scheme() != "http" && url.scheme() != "https") || url.host().empty()) return std::nullopt;
  Origin origin;
  origin.tls = url.scheme() == "https";
  origin.host = url.host_address();
  if (url.host_type() == boost::urls::host_type::ipv6) origin.host = url.host_ipv6_address().to_string();
  origin.port = url.has_port() ? std::string(url.port()) : (origin.tls ? "443" : "80");
  return origin;
}

awaitable<HttpClient::WarmUp> HttpClient::keep_warm(std::string url, unsigned count) {
  WarmUp result;
  const auto parsed = boost::urls::parse_absolute_uri(url);
  const auto origin = parsed ? origin_of(*parsed) : std::nullopt;
  if (!origin) {
    result.failure = "not an absolute http(s) URL";
    co_return result;
  }
  auto& pool = pools_[origin->key()];
  const auto too_old = Clock::now() - config_.idle_timeout / 2;
  std::erase_if(pool.idle, [&](const std::unique_ptr<Connection>& connection) {
    if (connection->last_used >= too_old && !connection->looks_closed()) return false;
    --pool.open;
    ++result.replaced;
    return true;
  });
  const unsigned wanted = std::min(count, config_.max_connections_per_host);
  while (pool.open < wanted) {
    ++pool.open;
    ClientResponse failure;
    auto connection = co_await connect(*origin, Clock::now() + config_.connect_timeout, failure);
    if (!connection) {
      forget(pool);
      result.failure = failure.failure_reason;
      co_return result;
    }
    ++result.opened;
    give_back(pool, std::move(connection));
  }
  co_return result;
}

awaitable<ClientResponse> HttpClient::send(ClientRequest request) {
  const Deadline deadline = Clock::now() + config_.total_timeout;

  const auto url = boost::urls::parse_absolute_uri(request.url);
  const auto parsed_origin = url ? origin_of(*url) : std::nullopt;
  if (!parsed_origin) co_return failed(TransportFailure::before_sending, "not an absolute http(s) URL");
  const Origin& origin = *parsed_origin;
  std::string target = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) target += "?" + std::string(url->encoded_query());

  // Written by hand in one piece and sent with one write: Beast's
  // serializer walked the fields as a chain of buffers and copied them again
  // to flatten them for TLS (bench/README.md, "Enquiry instructions").
  const bool default_port = origin.port == (origin.tls ? "443" : "80");
  const auto text = wire_request(request, target, default_port ? url->encoded_host() : url->encoded_host_and_port(),
                                 config_.user_agent);
  if (!text)
    co_return failed(TransportFailure::before_sending, "a header or the target would break the request's framing");

  auto& pool = pools_[origin.key()];
  ClientResponse failure;
  auto connection = co_await take_connection(origin, pool, deadline, failure);
  if (!connection) co_return failure;
  connection->carried_request = true;

  auto& tcp = connection->tcp();
  const auto exchange_limit = time_left(deadline, config_.request_timeout);
  if (exchange_limit == std::chrono::milliseconds::zero()) {
    give_back(pool, std::move(connection));
    co_return failed(TransportFailure::before_sending, "total deadline passed before sending");
  }
  tcp.expires_after(exchange_limit);

  boost::system::error_code write_error;
  if (connection->secure)
    std::tie(write_error, std::ignore) =
        co_await asio::async_write(*connection->secure, asio::buffer(*text), use_tuple);
  else
    std::tie(write_error, std::ignore) = co_await asio::async_write(*connection->plain, asio::buffer(*text), use_tuple);
  if (write_error) {
    // An incomplete request cannot have been acted on: the server waits
    // for the rest of the body it was promised.
    forget(pool);
    co_return failed(TransportFailure::before_sending, "writing the request failed: " + write_error.message());
  }

  beast_http::response_parser<beast_http::string_body> parser;
  parser.header_limit(16 * 1024);
  const auto body_limit = request.max_response_bytes.value_or(config_.max_response_bytes);
  parser.body_limit(body_limit);
  boost::system::error_code read_error;
  if (connection->secure)
    std::tie(read_error, std::ignore) =
        co_await beast_http::async_read(*connection->secure, connection->buffer, parser, use_tuple);
  else
    std::tie(read_error, std::ignore) =
        co_await beast_http::async_read(*connection->plain, connection->buffer, parser, use_tuple);
  if (read_error) {
    forget(pool);
    const std::string why = read_error == beast::error::timeout ? "timed out waiting for the answer"
                            : read_error == beast_http::error::body_limit
                                ? "the answer is larger than " + std::to_string(body_limit) + " bytes"
                                : read_error.message();
    auto cut_short = failed(TransportFailure::after_sending, why);
    // The status line came: a caller that needs no body (a lead event's
    // receiver saying 2xx) may take the answer as given.
    if (parser.is_header_done()) cut_short.status = parser.get().result_int();
    co_return cut_short;
  }

  auto response_message = parser.release();
  ClientResponse response;
  response.status = response_message.result_int();
  response.retry_after = std::string(response_message[beast_http::field::retry_after]);
  response.content_type = std::string(response_message[beast_http::field::content_type]);
  response.body = std::move(response_message.body());
  if (response_message.keep_alive() && connection->buffer.size() == 0) {
    tcp.expires_never();
    give_back(pool, std::move(connection));
  } else {
    forget(pool);
  }
  co_return response;
}

}  // namespace callgate::http
