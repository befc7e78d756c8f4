#include "fake_provider_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

namespace callgate::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct FakeProviderServer::State {
  asio::io_context io{1};
  asio::ip::tcp::acceptor acceptor{io};
  std::unique_ptr<asio::ssl::context> tls;
  mutable std::mutex lock;
  std::deque<ScriptedAnswer> answers;
  std::function<ScriptedAnswer(const RecordedRequest&)> responder;
  std::vector<RecordedRequest> requests;
  std::size_t connections = 0;
};

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (std::equal(key.begin(), key.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return value;
  return {};
}

namespace {

template <class Stream>
awaitable<void> serve(FakeProviderServer::State* state, Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    beast_http::request<beast_http::string_body> request;
    auto [read_error, read_bytes] = co_await beast_http::async_read(stream, buffer, request, use_tuple);
    if (read_error) co_return;
    RecordedRequest recorded;
    recorded.method = std::string(request.method_string());
    recorded.target = std::string(request.target());
    for (const auto& field : request)
      recorded.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    recorded.body = request.body();
    ScriptedAnswer answer;
    std::function<ScriptedAnswer(const RecordedRequest&)> responder;
    {
      std::lock_guard guard(state->lock);
      if (!state->answers.empty()) {
        answer = std::move(state->answers.front());
        state->answers.pop_front();
      } else if (state->responder) {
        responder = state->responder;
      } else {
        answer.status = 500;
        answer.body = R"({"message":"no answer scripted"})";
      }
    }
    if (responder) answer = responder(recorded);
    {
      std::lock_guard guard(state->lock);
      state->requests.push_back(std::move(recorded));
    }
    if (answer.delay.count() > 0) {
      asio::steady_timer timer(state->io, answer.delay);
      co_await timer.async_wait(use_tuple);
    }
    if (answer.drop_after_request) co_return;
    beast_http::response<beast_http::string_body> response{static_cast<beast_http::status>(answer.status), 11};
    response.set(beast_http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    response.body() = answer.body;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await beast_http::async_write(stream, response, use_tuple);
    if (write_error || !request.keep_alive()) co_return;
  }
}

awaitable<void> handle(FakeProviderServer::State* state, asio::ip::tcp::socket socket) {
  if (state->tls) {
    asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), *state->tls);
    auto [error] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (error) co_return;
    co_await serve(state, stream);
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
  } else {
    co_await serve(state, socket);
    boost::system::error_code ignored;
    socket.close(ignored);
  }
}

awaitable<void> accept_loop(FakeProviderServer::State* state) {
  for (;;) {
    auto [error, socket] = co_await state->acceptor.async_accept(use_tuple);
    if (error) co_return;
    {
      std::lock_guard guard(state->lock);
      ++state->connections;
    }
    asio::co_spawn(state->io, handle(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

FakeProviderServer::FakeProviderServer(const TestCertificates* certificates) : state_(std::make_unique<State>()) {
  if (certificates != nullptr) {
    state_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    state_->tls->use_certificate_chain(asio::buffer(certificates->server_cert_pem));
    state_->tls->use_private_key(asio::buffer(certificates->server_key_pem), asio::ssl::context::pem);
  }
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  port_ = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->io, accept_loop(state_.get()), asio::detached);
  thread_ = std::thread([state = state_.get()] { state->io.run(); });
}

FakeProviderServer::~FakeProviderServer() {
  state_->io.stop();
  thread_.join();
  // The port must refuse connections from now on (a test relies on it).
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  // The coroutines still parked in the loop hold only a plain pointer to
  // the state; destroying it destroys the loop, and with it them.
  state_.reset();
}

void FakeProviderServer::respond_with(std::function<ScriptedAnswer(const RecordedRequest&)> responder) {
  std::lock_guard guard(state_->lock);
  state_->responder = std::move(responder);
}

void FakeProviderServer::script(ScriptedAnswer answer) {
  std::lock_guard guard(state_->lock);
  state_->answers.push_back(std::move(answer));
}

std::vector<RecordedRequest> FakeProviderServer::requests() const {
  std::lock_guard guard(state_->lock);
  return state_->requests;
}

std::size_t FakeProviderServer::connections_accepted() const {
  std::lock_guard guard(state_->lock);
  return state_->connections;
}

}  // namespace callgate::testing
