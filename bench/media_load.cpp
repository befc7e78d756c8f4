// bench_media: both ends of N bridged calls through callgated. As the
// provider, it opens a signed /media/twilio stream per call (connected,
// start with the call's lead and token) and sends a 20 ms µ-law frame on
// each, on an absolute schedule, calls spread evenly over the 20 ms; as the
// voice agent (ws://127.0.0.1:AGENT_PORT) it answers every stream with its
// own 20 ms frames. Each frame carries its send time (steady clock, ns) in
// its first 8 bytes, so the relay delay is measured end to end both ways,
// in one process with one clock. After SECONDS it stops sending, waits for
// what is still queued to arrive, and prints one line: delays (p50, p99, p99.9, max) each way, frames sent and
// received each way, streams opened and refused.
//
// Usage: bench_media DAEMON_PORT AGENT_PORT CALLS_FILE SECONDS AUTH_TOKEN PUBLIC_WSS_URL
//   CALLS_FILE: lines "lead_id call_sid token".
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kFrame = std::chrono::milliseconds(20);

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string unbase64(std::string_view text) {
  std::string out(3 * text.size() / 4 + 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (written < 0) return {};
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string twilio_signature(const std::string& token, const std::string& url) {
  unsigned char digest[20];
  unsigned length = 0;
  HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()), reinterpret_cast<const unsigned char*>(url.data()),
       url.size(), digest, &length);
  return base64(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// 160 bytes of µ-law silence with the send time in the first 8.
std::string stamped_frame() {
  std::string frame(160, '\xFF');
  const auto stamp = now_ns();
  std::memcpy(frame.data(), &stamp, sizeof stamp);
  return frame;
}

// The delay since the stamp in a received payload, in ns; -1 when unreadable.
std::int64_t delay_of(std::string_view payload_base64) {
  const auto frame = unbase64(payload_base64);
  if (frame.size() < 8) return -1;
  std::int64_t stamp = 0;
  std::memcpy(&stamp, frame.data(), sizeof stamp);
  return now_ns() - stamp;
}

struct Side {
  std::mutex mutex;
  std::vector<std::int64_t> delays;  // ns
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> received{0};
};

Side to_agent;     // provider -> callgated -> agent
Side to_provider;  // agent -> callgated -> provider
std::atomic<bool> stopping{false};
std::atomic<int> streams_open{0};
std::atomic<int> streams_refused{0};

// One side's WebSocket with a send queue (one write at a time).
template <class Stream>
struct Peer : std::enable_shared_from_this<Peer<Stream>> {
  explicit Peer(Stream s) : ws(std::move(s)) {}
  Stream ws;
  std::deque<std::string> out;
  bool writing = false;

  void send(std::string text) {
    out.push_back(std::move(text));
    if (!writing) asio::co_spawn(ws.get_executor(), drain(this->shared_from_this()), asio::detached);
  }
  static asio::awaitable<void> drain(std::shared_ptr<Peer> self) {
    self->writing = true;
    while (!self->out.empty()) {
      auto text = std::move(self->out.front());
      self->out.pop_front();
      self->ws.text(true);
      auto [error, written] = co_await self->ws.async_write(asio::buffer(text), use_tuple);
      if (error) break;
    }
    self->writing = false;
  }
};

using Socket = websocket::stream<tcp::socket>;

// Sends a stamped media frame every 20 ms from first, until stopped.
template <class Make>
asio::awaitable<void> pace(std::shared_ptr<Peer<Socket>> peer, Clock::time_point first, Side& side, Make make) {
  asio::steady_timer timer(peer->ws.get_executor());
  for (std::uint64_t index = 0; !stopping.load(); ++index) {
    timer.expires_at(first + kFrame * index);
    co_await timer.async_wait(use_tuple);
    if (!peer->ws.is_open() || stopping.load()) break;
    peer->send(make(index));
    side.sent.fetch_add(1, std::memory_order_relaxed);
  }
}

void record(Side& side, std::int64_t delay) {
  if (delay < 0) return;
  side.received.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(side.mutex);
  side.delays.push_back(delay);
}

std::string media_json(std::string_view stream_sid, std::uint64_t index, const std::string& frame, bool with_time) {
  std::string out = R"({"event":"media","streamSid":")";
  out += stream_sid;
  out += R"(","media":{)";
  if (with_time)
    out += R"("track":"inbound","chunk":")" + std::to_string(index + 1) + R"(","timestamp":")" +
           std::to_string(index * 20) + R"(",)";
  out += R"("payload":")" + base64(frame) + R"("}})";
  return out;
}

// ---- the agent ----

asio::awaitable<void> agent_session(tcp::socket socket) {
  auto peer = std::make_shared<Peer<Socket>>(Socket(std::move(socket)));
  auto [accepted] = co_await peer->ws.async_accept(use_tuple);
  if (accepted) co_return;
  beast::flat_buffer buffer;
  std::string stream_sid;
  for (;;) {
    auto [error, bytes] = co_await peer->ws.async_read(buffer, use_tuple);
    if (error) break;
    const auto text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    if (text.find(R"("event":"media")") != std::string::npos) {
      const auto at = text.find(R"("payload":")");
      if (at != std::string::npos) {
        const auto start = at + 11;
        record(to_agent, delay_of(std::string_view(text).substr(start, text.find('"', start) - start)));
      }
    } else if (text.find(R"("event":"start")") != std::string::npos) {
      const auto value = boost::json::parse(text);
      stream_sid = std::string(value.at("streamSid").as_string());
      asio::co_spawn(
          peer->ws.get_executor(),
          pace(peer, Clock::now() + kFrame, to_provider,
               [stream_sid](std::uint64_t index) { return media_json(stream_sid, index, stamped_frame(), false); }),
          asio::detached);
    } else if (text.find(R"("event":"stop")") != std::string::npos) {
      break;
    }
  }
  boost::system::error_code ignored;
  peer->ws.next_layer().close(ignored);
}

asio::awaitable<void> agent_accept(tcp::acceptor& acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), agent_session(std::move(socket)), asio::detached);
  }
}

// ---- the provider ----

struct Call {
  std::string lead_id, call_sid, token;
};

std::string start_message(const Call& call, const std::string& stream_sid) {
  boost::json::object start{{"event", "start"}, {"sequenceNumber", "1"}, {"streamSid", stream_sid}};
  boost::json::object details{{"accountSid", "AC0123456789abcdef0123456789abcdef"},
                              {"streamSid", stream_sid},
                              {"callSid", call.call_sid},
                              {"tracks", boost::json::array{"inbound"}}};
  details["mediaFormat"] = boost::json::object{{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}};
  details["customParameters"] = boost::json::object{{"leadId", call.lead_id}, {"token", call.token}};
  start["start"] = std::move(details);
  return boost::json::serialize(start);
}

asio::awaitable<void> provider_call(Call call, unsigned short port, std::string signature, Clock::time_point first,
                                    std::size_t index) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  // (No braced temporaries in a coroutine: GCC 12 destroys them twice.)
  const tcp::endpoint daemon(asio::ip::make_address("127.0.0.1"), port);
  auto [connect_error] = co_await socket.async_connect(daemon, use_tuple);
  if (connect_error) {
    streams_refused.fetch_add(1);
    co_return;
  }
  socket.set_option(tcp::no_delay(true));
  auto peer = std::make_shared<Peer<Socket>>(Socket(std::move(socket)));
  peer->ws.set_option(websocket::stream_base::decorator(
      [signature](websocket::request_type& request) { request.set("X-Twilio-Signature", signature); }));
  auto [handshake_error] = co_await peer->ws.async_handshake("bench.invalid", "/media/twilio", use_tuple);
  if (handshake_error) {
    streams_refused.fetch_add(1);
    co_return;
  }
  const std::string stream_sid = "MZ" + std::string(32 - std::to_string(index).size(), '0') + std::to_string(index);
  peer->send(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  peer->send(start_message(call, stream_sid));
  streams_open.fetch_add(1);
  asio::co_spawn(
      executor,
      pace(peer, first, to_agent,
           [stream_sid](std::uint64_t frame) { return media_json(stream_sid, frame, stamped_frame(), true); }),
      asio::detached);
  beast::flat_buffer buffer;
  for (;;) {
    auto [error, bytes] = co_await peer->ws.async_read(buffer, use_tuple);
    if (error) break;
    const auto text = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    const auto at = text.find(R"("payload":")");
    if (at == std::string::npos) continue;
    const auto begin = at + 11;
    record(to_provider, delay_of(std::string_view(text).substr(begin, text.find('"', begin) - begin)));
  }
}

std::string summary(const char* name, Side& side) {
  std::lock_guard lock(side.mutex);
  auto& delays = side.delays;
  std::sort(delays.begin(), delays.end());
  auto at = [&](double quantile) {
    if (delays.empty()) return 0.0;
    const auto index =
        std::min(delays.size() - 1, static_cast<std::size_t>(quantile * static_cast<double>(delays.size())));
    return static_cast<double>(delays[index]) / 1e6;
  };
  char line[400];
  std::snprintf(
      line, sizeof line, "%s_p50_ms=%.3f %s_p99_ms=%.3f %s_p999_ms=%.3f %s_max_ms=%.3f %s_sent=%llu %s_received=%llu",
      name, at(0.5), name, at(0.99), name, at(0.999), name, delays.empty() ? 0.0 : delays.back() / 1e6, name,
      static_cast<unsigned long long>(side.sent.load()), name, static_cast<unsigned long long>(side.received.load()));
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: bench_media DAEMON_PORT AGENT_PORT CALLS_FILE SECONDS AUTH_TOKEN PUBLIC_WSS_URL\n";
    return 2;
  }
  const auto daemon_port = static_cast<unsigned short>(std::stoi(argv[1]));
  const auto agent_port = static_cast<unsigned short>(std::stoi(argv[2]));
  const int seconds = std::stoi(argv[4]);
  const std::string signature = twilio_signature(argv[5], std::string(argv[6]) + "/media/twilio");
  std::vector<Call> calls;
  std::ifstream in(argv[3]);
  for (Call call; in >> call.lead_id >> call.call_sid >> call.token;) calls.push_back(call);

  asio::io_context agent_io(1);
  tcp::acceptor acceptor(agent_io, {asio::ip::make_address("127.0.0.1"), agent_port});
  asio::co_spawn(agent_io, agent_accept(acceptor), asio::detached);
  std::thread agent_thread([&] { agent_io.run(); });

  asio::io_context provider_io(1);
  const auto begin = Clock::now() + std::chrono::milliseconds(500);
  for (std::size_t index = 0; index < calls.size(); ++index) {
    // Spread over the 20 ms, as independent calls' frames are.
    const auto first = begin + std::chrono::microseconds(20'000 * index / std::max<std::size_t>(1, calls.size()));
    asio::co_spawn(provider_io, provider_call(calls[index], daemon_port, signature, first, index), asio::detached);
  }
  std::thread provider_thread([&] { provider_io.run(); });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stopping = true;
  // Frames still queued arrive: wait until neither side's count moves for
  // half a second (at most 10 s), so what never arrives is what was lost.
  for (int waited = 0; waited < 20; ++waited) {
    const auto before = to_agent.received.load() + to_provider.received.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (to_agent.received.load() + to_provider.received.load() == before) break;
  }
  std::cout << "streams=" << streams_open.load() << " refused=" << streams_refused.load() << " "
            << summary("to_agent", to_agent) << " " << summary("to_provider", to_provider) << std::endl;
  agent_io.stop();
  provider_io.stop();
  agent_thread.join();
  provider_thread.join();
  return 0;
}
