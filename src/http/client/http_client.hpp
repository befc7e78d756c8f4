// The outbound HTTP(S) client every provider uses: asynchronous, one per
// reactor, so its pools, DNS cache and TLS sessions are touched by one
// thread only and nothing on it takes a lock.
//
// - TLS 1.2 or newer, the peer verified against the system CA store (or the
//   configured CA file), the host name checked against the certificate, SNI
//   sent. Plain http:// is used only when the URL asks for it, which only a
//   configured base URL can do (tests point providers at local fakes).
// - Keep-alive connections pooled per origin (scheme, host, port), at most
//   max_connections_per_host open at once; requests beyond that wait for a
//   connection until their total deadline.
// - Deadlines for connecting (DNS, TCP and TLS), for the exchange itself, and
//   in total; a response larger than max_response_bytes is cut off.
// - DNS through Asio's resolver (never blocks the reactor), cached for
//   dns_cache_ttl.
//
// Failures say whether the request could have reached the server: callers
// (providers placing calls) must not repeat a request that may have worked.
#pragma once

#include "core/config.hpp"
#include "http/client/exchange.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/url_view.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace callgate::http {

// Counts a client keeps, for /metrics (read from another thread) and tests.
struct HttpClientStatistics {
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> connections_reused{0};
  std::atomic<std::uint64_t> dns_lookups{0};
};

class HttpClient {
 public:
  // Throws std::runtime_error when the CA file cannot be loaded: a start-up
  // error, reported before any request is taken.
  HttpClient(boost::asio::io_context& io, HttpClientConfig config);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never throws; every failure is in the response. Must run on the
  // client's io_context. The client must outlive every send in flight.
  boost::asio::awaitable<ClientResponse> send(ClientRequest request);

  // Closes every pooled connection (shutdown, or tests that want fresh ones).
  void close_idle_connections();

  // Readies connections to url's origin ahead of the requests that will use
  // them, so a call placed after a start or a quiet spell does not wait for
  // a TCP and TLS handshake (tens to hundreds of milliseconds to a provider
  // abroad). Pooled connections idle for over half the idle timeout are
  // closed first (the next pass would find them too old to use); then
  // connections are opened one at a time until count are open, idle or in
  // use (never past max_connections_per_host). Never throws.
  struct WarmUp {
    unsigned opened = 0;
    unsigned replaced = 0;  // closed as too old for the next pass
    std::string failure;    // why the last connection could not be opened; empty when none failed
  };
  boost::asio::awaitable<WarmUp> keep_warm(std::string url, unsigned count);

  // A connection of the caller's own to url's origin (http: plain, https:
  // TLS verified exactly as every request's), for a protocol other than
  // HTTP request and answer: the voice agent's WebSocket. Not pooled, not
  // counted against max_connections_per_host. Within timeout: DNS, TCP and TLS.
  struct OpenedStream {
    std::unique_ptr<boost::beast::tcp_stream> plain;
    std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> secure;
    std::string failure;  // why neither is set
  };
  boost::asio::awaitable<OpenedStream> open_stream(std::string url, std::chrono::milliseconds timeout);

  const HttpClientStatistics& statistics() const { return statistics_; }
  std::size_t idle_connections() const;

  struct Connection;  // a TCP or TLS stream with its read buffer

 private:
  struct Origin {
    bool tls = false;
    std::string host;
    std::string port;
    std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
  };
  struct Pool {
    std::vector<std::unique_ptr<Connection>> idle;
    unsigned open = 0;  // idle and in use
    std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters;
  };
  struct CachedAddresses {
    boost::asio::ip::tcp::resolver::results_type results;
    std::chrono::steady_clock::time_point expires;
  };
  using Deadline = std::chrono::steady_clock::time_point;

  // Nothing when url is not an absolute http(s) URL with a host.
  static std::optional<Origin> origin_of(const boost::urls::url_view& url);
  boost::asio::awaitable<std::unique_ptr<Connection>> take_connection(const Origin& origin, Pool& pool,
                                                                      Deadline deadline, ClientResponse& failure);
  boost::asio::awaitable<std::unique_ptr<Connection>> connect(const Origin& origin, Deadline deadline,
                                                              ClientResponse& failure);
  void give_back(Pool& pool, std::unique_ptr<Connection> connection);
  void forget(Pool& pool);

  boost::asio::io_context& io_;
  HttpClientConfig config_;
  boost::asio::ssl::context tls_;
  std::unordered_map<std::string, Pool> pools_;
  std::unordered_map<std::string, CachedAddresses> addresses_;
  HttpClientStatistics statistics_;
};

}  // namespace callgate::http
