// The HTTP session with handlers of the test's own making, served in this
// process on a real loopback socket: failures inside handlers, handlers that
// wait, and what a handler may and may not set on its response.
#include "daemon_process.hpp"

#include "http/server/listener.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace callgate;
using namespace callgate::http;
using namespace callgate::testing;
using boost::asio::awaitable;

namespace {

// One reactor's worth of server, built the way the daemon builds it.
class InProcessServer {
 public:
  explicit InProcessServer(const std::function<void(HttpRouter&)>& add_routes,
                           const std::function<void(Config&)>& adjust = {}) {
    add_routes(router_);
    ids_ = declare_http_metrics(registry_);
    auto& metrics = registry_.add_shard();
    Config config;
    config.server.read_timeout = std::chrono::milliseconds(2000);
    config.log.access_log = false;
    if (adjust) adjust(config);
    shard_ = std::make_unique<ServerShard>(*io_, std::make_shared<const Config>(config), router_, metrics, ids_, 100,
                                           connections_by_address_);
    auto acceptor = open_listening_socket(*io_, ListenAddress{"127.0.0.1", 0, false});
    port_ = acceptor.local_endpoint().port();
    listener_ = std::make_unique<Listener>(std::move(acceptor), *shard_);
    listener_->start();
    thread_ = std::thread([this] { io_->run(); });
  }
  ~InProcessServer() {
    io_->stop();
    thread_.join();
    listener_.reset();
    shard_->shut_down();  // the daemon's own teardown order
    shard_.reset();
    io_.reset();
  }
  unsigned short port() const { return port_; }
  std::string metrics() const { return registry_.render(); }

 private:
  std::unique_ptr<boost::asio::io_context> io_ = std::make_unique<boost::asio::io_context>(1);
  MetricsRegistry registry_;
  HttpMetricIds ids_;
  HttpRouter router_;
  ConnectionsByAddress connections_by_address_;
  std::unique_ptr<ServerShard> shard_;
  std::unique_ptr<Listener> listener_;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(a_handler_that_throws_gets_a_500_and_the_server_goes_on) {
  InProcessServer server([](HttpRouter& router) {
    router.add(Verb::get, "/boom", [](RequestContext&) -> awaitable<Response> {
      throw std::runtime_error("handler bug");
      co_return make_json_response(Status::ok, "{}");
    });
    router.add(Verb::get, "/fine",
               [](RequestContext&) -> awaitable<Response> { co_return make_json_response(Status::ok, "{}"); });
  });
  auto failed = http_get(server.port(), "/boom", "X-Request-Id: boom-1\r\n");
  BOOST_TEST(failed.status == 500);
  const auto body = boost::json::parse(failed.body).as_object();
  BOOST_TEST(std::string(body.at("requestId").as_string()) == "boom-1");
  BOOST_TEST(std::string(body.at("error").as_string()).find("handler bug") == std::string::npos);  // no internals
  BOOST_TEST(http_get(server.port(), "/fine").status == 200);
  BOOST_TEST(server.metrics().find("route=\"/boom\",method=\"GET\",status=\"500\"} 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_handler_that_waits_keeps_pipelined_answers_in_order) {
  InProcessServer server([](HttpRouter& router) {
    router.add(Verb::get, "/slow", [](RequestContext& context) -> awaitable<Response> {
      boost::asio::steady_timer timer(context.shard.io(), std::chrono::milliseconds(150));
      co_await timer.async_wait(boost::asio::use_awaitable);
      co_return make_json_response(Status::ok, R"({"which":"slow"})");
    });
    router.add(Verb::get, "/fast/{n}", [](RequestContext& context) -> awaitable<Response> {
      co_return make_json_response(Status::ok,
                                   R"({"which":"fast )" + std::string(*context.parameters.get("n")) + "\"}");
    });
  });
  Connection connection(server.port());
  connection.send(
      "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast/1 HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /fast/2 HTTP/1.1\r\nHost: t\r\n\r\n");
  for (const char* expected : {"slow", "fast 1", "fast 2"}) {
    auto raw = connection.read_response();
    BOOST_REQUIRE(raw);
    BOOST_TEST(parse_response(*raw).body == std::string(R"({"which":")") + expected + "\"}");
  }
}

BOOST_AUTO_TEST_CASE(content_type_checks_answer_415) {
  InProcessServer server([](HttpRouter& router) {
    router.add(Verb::post, "/json-only", [](RequestContext& context) -> awaitable<Response> {
      if (auto refusal = require_content_type(context.request, {"application/json"}, context.request_id))
        co_return std::move(*refusal);
      co_return make_json_response(Status::accepted, "{}");
    });
  });
  auto wrong = http_get(server.port(), "/json-only", "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi", "POST");
  BOOST_TEST(wrong.status == 415);
  BOOST_TEST(wrong.body.find("Content-Type must be application/json") != std::string::npos, wrong.body);
  auto missing = http_get(server.port(), "/json-only", "Content-Length: 2\r\n\r\n{}", "POST");
  BOOST_TEST(missing.status == 415);
  auto right = http_get(server.port(), "/json-only",
                        "Content-Type: Application/JSON; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}", "POST");
  BOOST_TEST(right.status == 202);
}

BOOST_AUTO_TEST_CASE(the_server_owns_framing_and_handlers_own_the_rest) {
  InProcessServer server([](HttpRouter& router) {
    router.add(Verb::get, "/custom", [](RequestContext&) -> awaitable<Response> {
      Response response = make_json_response(Status::ok, R"({"a":1})");
      response.set(boost::beast::http::field::cache_control, "max-age=5");
      response.set(boost::beast::http::field::content_length, "9999");  // wrong: must not reach the wire
      response.set(boost::beast::http::field::connection, "close");
      response.set("X-Custom", "yes");
      co_return response;
    });
  });
  Connection connection(server.port());
  connection.send("GET /custom HTTP/1.1\r\nHost: t\r\n\r\nGET /custom HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 2; ++i) {  // the handler's "Connection: close" did not close it
    auto raw = connection.read_response();
    BOOST_REQUIRE_MESSAGE(raw, "response " << i);
    const auto parsed = parse_response(*raw);
    BOOST_TEST(parsed.headers.at("content-length") == "7");
    BOOST_TEST(parsed.headers.at("cache-control") == "max-age=5");
    BOOST_TEST(parsed.headers.at("x-custom") == "yes");
    BOOST_TEST(parsed.body == R"({"a":1})");
  }
}

BOOST_AUTO_TEST_SUITE_END()
