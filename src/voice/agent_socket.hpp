// The WebSocket to the voice agent, over plain TCP (ws://) or TLS (wss://,
// verified by the project's client exactly as a provider's API is). One
// type for both, so the bridge has one code path.
#pragma once

#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace callgate::voice {

class AgentSocket {
 public:
  using Plain = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  using Secure = boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

  // Connects and completes the WebSocket handshake within timeout; nothing
  // and why when it cannot.
  static boost::asio::awaitable<std::variant<std::unique_ptr<AgentSocket>, std::string>> connect(
      http::HttpClient& client, const std::string& url, std::chrono::milliseconds timeout);

  // One message each. Errors come back, never thrown.
  boost::asio::awaitable<boost::system::error_code> write(const std::string& text);
  boost::asio::awaitable<boost::system::error_code> read(boost::beast::flat_buffer& buffer);
  // A clean close (1000), bounded by the stream's own close timeout.
  boost::asio::awaitable<void> close();
  // Cuts the connection at once: pending reads and writes end.
  void cut();

  explicit AgentSocket(std::unique_ptr<Plain> plain) : stream_(std::move(plain)) {}
  explicit AgentSocket(std::unique_ptr<Secure> secure) : stream_(std::move(secure)) {}

 private:
  std::variant<std::unique_ptr<Plain>, std::unique_ptr<Secure>> stream_;
};

}  // namespace callgate::voice
