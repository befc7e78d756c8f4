// Baseline for bench/run: answers every request with 204 and nothing else,
// one thread per core, each with its own SO_REUSEPORT acceptor, the same
// shape as callgated but with none of its work (routing, ids, metrics, logs).
// Usage: bench_baseline_server PORT THREADS
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

asio::awaitable<void> serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  auto token = asio::as_tuple(asio::use_awaitable);
  for (;;) {
    http::request<http::empty_body> request;
    auto [read_error, read_bytes] = co_await http::async_read(socket, buffer, request, token);
    if (read_error) break;
    http::response<http::empty_body> response{http::status::no_content, 11};
    response.keep_alive(request.keep_alive());
    auto [write_error, written] = co_await http::async_write(socket, response, token);
    if (write_error || !request.keep_alive()) break;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor) {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (error) continue;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_baseline_server PORT THREADS\n";
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const int threads = std::stoi(argv[2]);
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    auto io = std::make_unique<asio::io_context>(1);
    tcp::acceptor acceptor(*io);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(*io, accept_loop(std::move(acceptor)), asio::detached);
    contexts.push_back(std::move(io));
  }
  for (auto& io : contexts) workers.emplace_back([&io] { io->run(); });
  for (auto& worker : workers) worker.join();
}
