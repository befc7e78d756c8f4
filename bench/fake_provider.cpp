// bench_fake_provider: a stand-in for Twilio's Create Call endpoint for the
// enquiry bench, over TLS with keep-alive. Every POST .../Calls.json gets a
// 201 with a fresh call sid; for each it notes the lead it is for (the
// leadId in the request's Url field), when it arrived (wall clock, ns since
// 1970) and the sid it answered, and writes those lines ("lead ns sid") to
// OUTPUT when it gets SIGTERM or SIGINT.
//
// Usage: bench_fake_provider PORT CERT_PEM KEY_PEM OUTPUT
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

struct Arrival {
  std::string lead_id;
  std::int64_t wall_ns;
  std::string sid;
};

std::vector<Arrival> arrivals;
std::uint64_t next_sid = 1;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The lead id in the form's Url field: "...%3FleadId%3D<26-character ULID>".
std::string lead_id_in(const std::string& body) {
  static const std::string marker = "leadId%3D";
  const auto at = body.find(marker);
  return at == std::string::npos ? std::string("?") : body.substr(at + marker.size(), 26);
}

asio::awaitable<void> serve(asio::ssl::stream<tcp::socket> stream) {
  auto [handshake_error] =
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (handshake_error) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    auto [read_error, read] = co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    const auto arrived = wall_ns();
    http::response<http::string_body> response;
    response.version(11);
    response.keep_alive(request.keep_alive());
    response.set(http::field::content_type, "application/json");
    if (request.method() == http::verb::post && request.target().ends_with("/Calls.json")) {
      char sid[40];
      std::snprintf(sid, sizeof sid, "CA%032llx", static_cast<unsigned long long>(next_sid++));
      arrivals.push_back({lead_id_in(request.body()), arrived, sid});
      response.result(http::status::created);
      response.body() = std::string(R"({"sid":")") + sid + R"(","status":"queued"})";
    } else {
      response.result(http::status::not_found);
      response.body() = R"({"code":20404,"message":"not found"})";
    }
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !request.keep_alive()) co_return;
  }
}

asio::awaitable<void> accept(tcp::acceptor& acceptor, asio::ssl::context& tls) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(asio::ssl::stream<tcp::socket>(std::move(socket), tls)),
                   asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: bench_fake_provider PORT CERT_PEM KEY_PEM OUTPUT\n";
    return 2;
  }
  asio::io_context io(1);
  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.use_certificate_chain_file(argv[2]);
  tls.use_private_key_file(argv[3], asio::ssl::context::pem);
  tcp::acceptor acceptor(
      io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))));
  arrivals.reserve(1'000'000);
  asio::co_spawn(io, accept(acceptor, tls), asio::detached);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  io.run();
  std::ofstream out(argv[4]);
  for (const auto& arrival : arrivals) out << arrival.lead_id << ' ' << arrival.wall_ns << ' ' << arrival.sid << '\n';
  return 0;
}
