#include "http/server/session.hpp"

#include "core/ascii.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "core/utf8.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <charconv>

namespace callgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::string_view kServerName = "callgated/" CALLGATE_VERSION;

bool expects_continue(const Request& request) {
  const auto expect = request[beast_http::field::expect];
  return expect.size() == 12 && equals_ignoring_case(expect, "100-continue");
}

// Only "chunked" alone: another coding (gzip, ...) would hand handlers bytes
// they cannot read, and "chunked" not last leaves the body's end unknown,
// the stuff of request smuggling (RFC 9112, section 6.3).
bool has_acceptable_transfer_encoding(const Request& request) {
  std::string_view coding;
  int codings = 0;
  for (const auto& field : request)
    if (field.name() == beast_http::field::transfer_encoding && codings++ == 0) coding = field.value();
  if (codings == 0) return true;
  while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
  while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
  return equals_ignoring_case(coding, "chunked") && codings == 1;
}

// The header's size as sent: request line, each field with its ": " and
// CRLF, and the blank line. (Beast keeps the fields as received.)
std::size_t header_bytes(const Request& request) {
  std::size_t bytes = request.method_string().size() + 1 + request.target().size() + 1 + 8 + 2 + 2;
  for (const auto& field : request) bytes += field.name_string().size() + 2 + field.value().size() + 2;
  return bytes;
}

// A parse error means the client spoke something other than HTTP/1.1; the
// peer closing early (end_of_stream, partial_message) is not its fault to hear about.
bool is_malformed_request(const boost::system::error_code& error) {
  static const auto& http_errors = beast_http::make_error_code(beast_http::error::bad_target).category();
  return error.category() == http_errors && error != beast_http::error::end_of_stream &&
         error != beast_http::error::partial_message;
}

}  // namespace

void Session::start(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& peer, ServerShard& shard) {
  auto session = std::make_shared<Session>(std::move(socket), peer, shard);
  spawn_task(shard.io(), serve(std::move(session)), "HTTP session");
}

// The frame holds the session (a parameter, unlike a lambda's capture), so
// it lives as long as its connection does.
asio::awaitable<void> Session::serve(std::shared_ptr<Session> session) { co_await session->run(); }

Session::Session(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& peer, ServerShard& shard)
    : socket_(std::move(socket)), shard_(shard), peer_(peer) {
  boost::system::error_code ignored;
  peer_text_ = peer_.address().to_string();
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  shard_.add(*this);
}

Session::~Session() {
  shard_.release_address(peer_.address());
  shard_.remove(*this);
}

bool Session::has_unread_bytes() {
  boost::system::error_code error;
  return socket_.available(error) > 0 && !error;
}

void Session::drain() {
  boost::system::error_code ignored;
  if (idle_) socket_.cancel(ignored);
}

void Session::close() {
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.cancel(ignored);
}

void Session::arm_deadline(std::chrono::milliseconds duration, Clock::time_point from) {
  deadline_ = from + duration;
  deadline_passed_ = false;
}

void Session::expire_if_due(Clock::time_point now) {
  if (deadline_passed_ || now < deadline_) return;
  // Cancelling rather than closing (what Beast's tcp_stream does) leaves the
  // socket usable, so the session can still answer 408 before it closes.
  deadline_passed_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
}

asio::awaitable<void> Session::run() {
  while (co_await serve_one()) {
  }
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

asio::awaitable<bool> Session::serve_one() {
  // Take the snapshot once: a SIGHUP mid-request must not change the rules
  // (or free the config) under this request.
  const std::shared_ptr<const Config> config = shard_.config();
  const auto& server = config->server;
  buffer_.max_size(server.max_header_bytes + kReadChunk);

  // Idle: a keep-alive connection waiting for its next request. Bytes already
  // buffered (a pipelined request) skip the wait.
  if (buffer_.size() == 0) {
    idle_ = true;
    // A request that had already arrived when the drain began is answered
    // (and the connection closed after it): closing with it unread would
    // reset the connection and lose the request.
    if (shard_.draining() && !has_unread_bytes()) co_return false;
    // A fresh connection has read_timeout to send its first byte: an idle
    // keep-alive connection earned its longer wait with a request.
    arm_deadline(served_any_ ? server.idle_timeout : server.read_timeout, Clock::now());
    auto [error, bytes] = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), use_tuple);
    idle_ = false;
    if (error && error == asio::error::operation_aborted && shard_.draining() && !deadline_passed_ &&
        has_unread_bytes()) {
      boost::system::error_code read_error;
      bytes = socket_.read_some(buffer_.prepare(kReadChunk), read_error);
      if (read_error) co_return false;
    } else if (error) {
      co_return false;  // closed, idle too long, or drained: nothing to answer
    }
    buffer_.commit(bytes);
  }
  served_any_ = true;
  idle_ = false;
  const auto started = Clock::now();

  // The whole request, header and body, must arrive within read_timeout of
  // its first byte: a slow client cannot hold the connection open for long.
  arm_deadline(server.read_timeout, started);
  RequestParser parser;
  parser.header_limit(static_cast<std::uint32_t>(server.max_header_bytes));
  parser.body_limit(server.max_body_bytes);

  // Most requests arrived whole with the first read: parse them in place
  // and skip the asynchronous read (and its trip through the scheduler).
  boost::system::error_code error = parse_buffered(parser);
  if (!error && !parser.is_header_done()) {
    auto [header_error, header_bytes] = co_await beast_http::async_read_header(socket_, buffer_, parser, use_tuple);
    error = header_error;
  }
  // Beast enforces header_limit only while the header is incomplete in its
  // buffer; a header that arrived whole in one read could be any size up to
  // the buffer's. Count it again now that it is parsed.
  if (!error && parser.is_header_done() && header_bytes(parser.get()) > server.max_header_bytes) {
    co_await reject(RequestError::header_too_large, Status::request_header_fields_too_large,
                    "request header exceeds server.max_header_bytes", started);
    co_return false;
  }
  if (!error && !has_acceptable_transfer_encoding(parser.get())) {
    // Closing after the answer matters as much as the answer: the body's
    // framing is unknown, so nothing after it can be trusted as a request.
    co_await reject(RequestError::unsupported_transfer_encoding, Status::not_implemented,
                    "Transfer-Encoding other than chunked is not supported", started);
    co_return false;
  }
  if (!error && !parser.is_done() && expects_continue(parser.get())) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [write_error, written] = co_await asio::async_write(socket_, asio::buffer(interim), use_tuple);
    error = write_error;
  }
  if (!error && !parser.is_done()) {
    auto [body_error, body_bytes] = co_await beast_http::async_read(socket_, buffer_, parser, use_tuple);
    error = body_error;
  }

  if (error) {
    if (error == beast_http::error::header_limit || error == beast_http::error::buffer_overflow)
      co_await reject(RequestError::header_too_large, Status::request_header_fields_too_large,
                      "request header exceeds server.max_header_bytes", started);
    else if (error == beast_http::error::body_limit)
      co_await reject(RequestError::body_too_large, Status::payload_too_large,
                      "request body exceeds server.max_body_bytes", started);
    else if (deadline_passed_)
      co_await reject(RequestError::read_timeout, Status::request_timeout,
                      "request not received within server.read_timeout", started);
    else if (is_malformed_request(error))
      co_await reject(RequestError::malformed, Status::bad_request, "malformed HTTP request", started);
    // Anything else is the peer going away: no one is left to answer.
    co_return false;
  }

  Request& request = parser.get();
  const auto supplied_id = header_value(request, "X-Request-Id");
  // Kept in the session, so its storage is reused from request to request.
  std::string& request_id = request_id_;
  if (is_acceptable_request_id(supplied_id))
    request_id.assign(supplied_id.data(), supplied_id.size());
  else
    shard_.request_ids().next_into(request_id);
  const bool head = request.method() == beast_http::verb::head;
  // Most requests carry no Connection header, and Beast's keep_alive()
  // looks for it down its tree of names (see header_value).
  const bool keep_alive =
      header_value(request, beast_http::field::connection).empty() ? request.version() >= 11 : request.keep_alive();

  std::size_t route_key = shard_.unmatched_route_key();
  ConnectionTakeover takeover;
  Response response = co_await dispatch(request, request_id, config, route_key, takeover);
  // Decided after the handler ran: a drain that began meanwhile closes this
  // connection once the answer is out.
  const bool keep_open = keep_alive && !shard_.draining();

  // Counted and logged before the write: a client that has its answer can
  // rely on finding it in /metrics, and the latency is the server's own.
  const auto answered = Clock::now();
  const auto elapsed = answered - started;
  const unsigned status = response.result_int();
  shard_.record_request(route_key, status, std::chrono::duration<double>(elapsed).count());
  if (config->log.access_log)
    log_access(request.method_string(), request.target(), status, route_key, request_id, elapsed);

  if (takeover) {
    // The connection is the handler's now (a WebSocket, a file streamed):
    // it keeps its own time, and a drain waits for it until the drain
    // deadline cuts it.
    deadline_ = Clock::time_point::max();
    co_await takeover(socket_, buffer_, std::move(request));
    co_return false;
  }

  arm_deadline(server.write_timeout, answered);
  serialize(response, request_id, keep_open, head);
  auto [write_error, written] = co_await asio::async_write(socket_, asio::buffer(wire_), use_tuple);
  co_return !write_error && keep_open;
}

asio::awaitable<Response> Session::dispatch(Request& request, const std::string& request_id,
                                            const std::shared_ptr<const Config>& config, std::size_t& route_key,
                                            ConnectionTakeover& takeover) {
  auto match = shard_.router().match(request.method(), request.target());
  if (match.outcome == HttpRouter::Outcome::not_found) {
    const auto path = request.target().substr(0, std::min<std::size_t>(request.target().find('?'), 200));
    co_return make_json_error(Status::not_found,
                              "no route for " + std::string(request.method_string()) + " " + to_valid_utf8(path),
                              request_id);
  }
  if (match.outcome == HttpRouter::Outcome::method_not_allowed) {
    Response response = make_json_error(
        Status::method_not_allowed,
        "method " + std::string(request.method_string()) + " not allowed here; allowed: " + match.allowed, request_id);
    response.set(beast_http::field::allow, match.allowed);
    co_return response;
  }
  route_key = match.route->index;
  RequestContext context{request, match.parameters, request_id, peer_, *config, shard_, &takeover};
  try {
    co_return co_await match.route->target(context);
  } catch (const std::exception& failure) {
    LogLine(LogLevel::error, "handler_failed")
        .trusted_text("route", match.route->pattern.text())
        .trusted_text("request_id", request_id)
        .text("reason", failure.what());
  }
  co_return make_json_error(Status::internal_server_error, "internal error; quote the requestId when reporting it",
                            request_id);
}

asio::awaitable<void> Session::reject(RequestError error, Status status, std::string_view message,
                                      Clock::time_point started) {
  shard_.record_error(error);
  std::string& request_id = request_id_;
  shard_.request_ids().next_into(request_id);
  Response response = make_json_error(status, message, request_id);
  const auto answered = Clock::now();
  const auto elapsed = answered - started;
  shard_.record_request(shard_.invalid_request_key(), response.result_int(),
                        std::chrono::duration<double>(elapsed).count());
  if (shard_.config()->log.access_log)
    log_access("-", "-", response.result_int(), shard_.invalid_request_key(), request_id, elapsed);
  arm_deadline(shard_.config()->server.write_timeout, answered);
  serialize(response, request_id, false, false);
  co_await asio::async_write(socket_, asio::buffer(wire_), use_tuple);
}

boost::system::error_code Session::parse_buffered(RequestParser& parser) {
  boost::system::error_code error;
  while (!parser.is_done() && buffer_.size() > 0) {
    const std::size_t used = parser.put(buffer_.data(), error);
    buffer_.consume(used);
    if (error == beast_http::error::need_more) return {};
    if (error || used == 0) break;
  }
  return error;
}

// The whole response in one contiguous buffer: one send() of one iovec.
// Beast's serializer hands the kernel a buffer per header name, separator
// and value, and copying those dozens of small pieces cost more than the
// rest of a small request's work together. The headers every response
// carries are written here rather than set on the message, which saves an
// allocation each.
void Session::serialize(const Response& response, const std::string& request_id, bool keep_alive, bool head) {
  auto append = [this](std::string_view text) { wire_.append(text.data(), text.size()); };
  wire_.clear();
  auto append_number = [this](std::size_t number) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    wire_.append(digits, static_cast<std::size_t>(end - digits));
  };
  append("HTTP/1.1 ");
  append_number(response.result_int());
  append(" ");
  append(response.reason());
  append("\r\nServer: ");
  append(kServerName);
  append("\r\nDate: ");
  append(shard_.date().now());
  append("\r\nX-Request-Id: ");
  append(request_id);
  append("\r\nContent-Length: ");
  append_number(response.body().size());
  append("\r\n");
  if (!keep_alive) append("Connection: close\r\n");
  bool has_cache_control = false;
  for (const auto& field : response) {
    // Framing is this function's business alone.
    const auto name = field.name();
    if (name == beast_http::field::content_length || name == beast_http::field::connection ||
        name == beast_http::field::transfer_encoding)
      continue;
    has_cache_control = has_cache_control || name == beast_http::field::cache_control;
    append(field.name_string());
    append(": ");
    append(field.value());
    append("\r\n");
  }
  if (!has_cache_control) append("Cache-Control: no-store\r\n");
  append("\r\n");
  if (!head) append(response.body());  // HEAD: the GET's Content-Length, no body
}

void Session::log_access(std::string_view method, std::string_view target, unsigned status, std::size_t route_key,
                         const std::string& request_id, Clock::duration elapsed) const {
  if (!log_enabled(LogLevel::info)) return;
  LogLine(LogLevel::info, "http_request")
      .text("method", method)
      .url("target", target)
      .trusted_text("route", shard_.route_name(route_key))
      .number("status", status)
      .number("duration_us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count())
      .text("request_id", request_id)
      .trusted_text("peer", peer_text_);
}

}  // namespace callgate::http
