#include "fake_voice_agent.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace callgate::testing {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

// Written apart from callgate's own encoder, so a test's comparison of
// payloads is not callgate checking itself.
std::string base64(std::string_view data) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t at = 0;
  for (; at + 2 < data.size(); at += 3) {
    const unsigned triple = (static_cast<unsigned char>(data[at]) << 16) |
                            (static_cast<unsigned char>(data[at + 1]) << 8) | static_cast<unsigned char>(data[at + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(alphabet[(triple >> shift) & 63]);
  }
  if (at + 1 == data.size()) {
    const unsigned value = static_cast<unsigned char>(data[at]) << 16;
    out += {alphabet[(value >> 18) & 63], alphabet[(value >> 12) & 63], '=', '='};
  } else if (at + 2 == data.size()) {
    const unsigned value =
        (static_cast<unsigned char>(data[at]) << 16) | (static_cast<unsigned char>(data[at + 1]) << 8);
    out += {alphabet[(value >> 18) & 63], alphabet[(value >> 12) & 63], alphabet[(value >> 6) & 63], '='};
  }
  return out;
}

struct FakeVoiceAgent::State {
  explicit State(Script s)
      : script(std::move(s)), acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  Script script;
  std::unique_ptr<asio::ssl::context> tls;  // set: wss://
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<std::vector<std::string>> received;
  std::vector<bool> closed;
};

namespace {

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<FakeVoiceAgent::State> state, Stream ws, std::size_t index) {
  auto [accepted] = co_await ws.async_accept(use_tuple);
  auto finish = [&] {
    std::lock_guard lock(state->mutex);
    state->closed[index] = true;
    state->changed.notify_all();
  };
  if (accepted) {
    finish();
    co_return;
  }
  const auto& script = state->script;
  std::size_t frames = 0;
  std::string stream_sid;
  boost::beast::flat_buffer buffer;
  auto send = [&](std::string text) -> asio::awaitable<bool> {
    ws.text(true);
    auto [error, written] = co_await ws.async_write(asio::buffer(text), use_tuple);
    co_return !error;
  };
  for (;;) {
    auto [error, bytes] = co_await ws.async_read(buffer, use_tuple);
    if (error) break;
    std::string text = boost::beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    {
      std::lock_guard lock(state->mutex);
      state->received[index].push_back(text);
      state->changed.notify_all();
    }
    boost::system::error_code parse_error;
    auto value = boost::json::parse(text, parse_error);
    if (parse_error || !value.is_object()) continue;
    const auto& message = value.as_object();
    const auto event = std::string(message.at("event").as_string());
    if (event == "start") {
      stream_sid = std::string(message.at("streamSid").as_string());
      for (const auto& line : script.after_start) co_await send(line);
    } else if (event == "media") {
      ++frames;
      if (script.close_after_frames != 0 && frames == script.close_after_frames) break;
      if (script.send_at_frame != 0 && frames == script.send_at_frame) co_await send(script.send_at_frame_text);
      if (script.reply_after_frames != 0 && frames == script.reply_after_frames) {
        for (std::size_t at = 0; at < script.reply_mulaw.size(); at += 160) {
          boost::json::object media{{"event", "media"}, {"streamSid", stream_sid}};
          media["media"] =
              boost::json::object{{"payload", base64(std::string_view(script.reply_mulaw).substr(at, 160))}};
          co_await send(boost::json::serialize(media));
        }
        boost::json::object mark{{"event", "mark"}, {"streamSid", stream_sid}};
        mark["mark"] = boost::json::object{{"name", "reply-end"}};
        co_await send(boost::json::serialize(mark));
      }
    } else if (event == "mark" && script.clear_after_mark) {
      // Built before the co_await: GCC 12 mishandles a braced list inside one.
      const auto clear = boost::json::serialize(boost::json::object{{"event", "clear"}, {"streamSid", stream_sid}});
      co_await send(clear);
    }
  }
  boost::system::error_code ignored;
  boost::beast::get_lowest_layer(ws).shutdown(tcp::socket::shutdown_both, ignored);
  boost::beast::get_lowest_layer(ws).close(ignored);
  finish();
}

asio::awaitable<void> serve_tls(std::shared_ptr<FakeVoiceAgent::State> state, tcp::socket socket, std::size_t index) {
  asio::ssl::stream<tcp::socket> secure(std::move(socket), *state->tls);
  auto [handshake_error] = co_await secure.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (handshake_error) {
    std::lock_guard lock(state->mutex);
    state->closed[index] = true;
    state->changed.notify_all();
    co_return;
  }
  co_await serve(state, websocket::stream<asio::ssl::stream<tcp::socket>>(std::move(secure)), index);
}

asio::awaitable<void> accept_loop(std::shared_ptr<FakeVoiceAgent::State> state) {
  for (;;) {
    auto [error, socket] = co_await state->acceptor.async_accept(use_tuple);
    if (error) co_return;
    std::size_t index = 0;
    {
      std::lock_guard lock(state->mutex);
      index = state->received.size();
      state->received.emplace_back();
      state->closed.push_back(false);
    }
    if (state->tls)
      asio::co_spawn(state->io, serve_tls(state, std::move(socket), index), asio::detached);
    else
      asio::co_spawn(state->io, serve(state, websocket::stream<tcp::socket>(std::move(socket)), index), asio::detached);
  }
}

}  // namespace

FakeVoiceAgent::FakeVoiceAgent(Script script, const TestCertificates* tls)
    : state_(std::make_shared<State>(std::move(script))) {
  if (tls) {
    state_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    state_->tls->use_certificate_chain(asio::buffer(tls->server_cert_pem));
    state_->tls->use_private_key(asio::buffer(tls->server_key_pem), asio::ssl::context::pem);
  }
  asio::co_spawn(state_->io, accept_loop(state_), asio::detached);
  state_->thread = std::thread([state = state_] { state->io.run(); });
}

FakeVoiceAgent::~FakeVoiceAgent() {
  state_->io.stop();
  state_->thread.join();
}

unsigned short FakeVoiceAgent::port() const { return state_->acceptor.local_endpoint().port(); }

std::size_t FakeVoiceAgent::connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->received.size();
}

std::vector<std::string> FakeVoiceAgent::received(std::size_t index) const {
  std::lock_guard lock(state_->mutex);
  return index < state_->received.size() ? state_->received[index] : std::vector<std::string>{};
}

bool FakeVoiceAgent::wait_until_closed(std::size_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout,
                                  [&] { return index < state_->closed.size() && state_->closed[index]; });
}

}  // namespace callgate::testing
