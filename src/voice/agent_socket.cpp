#include "voice/agent_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>

namespace callgate::voice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Stream>
void configure(Stream& stream, std::chrono::milliseconds timeout) {
  // The handshake is bounded by the caller's timeout; once open, silence is
  // the bridge's to judge (stall_timeout), so no idle timeout here.
  websocket::stream_base::timeout limits{};
  limits.handshake_timeout = timeout;
  limits.idle_timeout = websocket::stream_base::none();
  limits.keep_alive_pings = false;
  stream.set_option(limits);
  stream.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& request) { request.set(beast::http::field::user_agent, "callgated"); }));
  stream.read_message_max(512 * 1024);
  stream.auto_fragment(false);
}

template <class Stream>
asio::awaitable<std::string> handshake(Stream& stream, const std::string& host, const std::string& target) {
  auto [error] = co_await stream.async_handshake(host, target, use_tuple);
  co_return error ? "WebSocket handshake failed: " + error.message() : std::string();
}

// Plain functions, not capturing lambdas: a coroutine lambda's captures
// die with the lambda, before the coroutine has run.
template <class Stream>
asio::awaitable<boost::system::error_code> write_to(Stream& stream, const std::string& text) {
  stream.text(true);
  auto [error, written] = co_await stream.async_write(asio::buffer(text), use_tuple);
  co_return error;
}

template <class Stream>
asio::awaitable<boost::system::error_code> read_from(Stream& stream, beast::flat_buffer& buffer) {
  auto [error, read] = co_await stream.async_read(buffer, use_tuple);
  if (!error && !stream.got_text()) co_return websocket::error::bad_data_frame;  // JSON travels as text
  co_return error;
}

template <class Stream>
asio::awaitable<void> close_of(Stream& stream) {
  // Bounded by the handshake timeout, which Beast applies to the close too.
  if (stream.is_open()) co_await stream.async_close(websocket::close_code::normal, use_tuple);
}

}  // namespace

asio::awaitable<std::variant<std::unique_ptr<AgentSocket>, std::string>> AgentSocket::connect(
    http::HttpClient& client, const std::string& url, std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "ws" && parsed->scheme() != "wss"))
    co_return std::string("voice.agent.url is not a ws:// or wss:// URL");
  const bool secure = parsed->scheme() == "wss";
  std::string http_url = (secure ? "https://" : "http://") + std::string(parsed->encoded_authority());
  std::string host = std::string(parsed->encoded_host_and_port());
  std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  const auto started = std::chrono::steady_clock::now();
  auto opened = co_await client.open_stream(http_url, timeout);
  if (!opened.failure.empty()) co_return opened.failure;
  const auto left = std::max(
      std::chrono::milliseconds(1),
      timeout - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started));
  if (secure) {
    beast::get_lowest_layer(*opened.secure).expires_never();
    auto stream = std::make_unique<Secure>(std::move(*opened.secure));
    configure(*stream, left);
    if (auto failure = co_await handshake(*stream, host, target); !failure.empty()) co_return failure;
    co_return std::make_unique<AgentSocket>(std::move(stream));
  }
  beast::get_lowest_layer(*opened.plain).expires_never();
  auto stream = std::make_unique<Plain>(std::move(*opened.plain));
  configure(*stream, left);
  if (auto failure = co_await handshake(*stream, host, target); !failure.empty()) co_return failure;
  co_return std::make_unique<AgentSocket>(std::move(stream));
}

asio::awaitable<boost::system::error_code> AgentSocket::write(const std::string& text) {
  co_return co_await std::visit([&text](auto& stream) { return write_to(*stream, text); }, stream_);
}

asio::awaitable<boost::system::error_code> AgentSocket::read(beast::flat_buffer& buffer) {
  co_return co_await std::visit([&buffer](auto& stream) { return read_from(*stream, buffer); }, stream_);
}

asio::awaitable<void> AgentSocket::close() {
  co_await std::visit([](auto& stream) { return close_of(*stream); }, stream_);
}

void AgentSocket::cut() {
  std::visit(
      [](auto& stream) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(*stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(*stream).socket().close(ignored);
      },
      stream_);
}

}  // namespace callgate::voice
