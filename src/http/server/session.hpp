// One HTTP/1.1 connection: wait for a request (idle timeout), read it whole
// (read deadline, header and body limits), route it, write the answer, repeat.
//
// Requests pipelined by the client sit in the read buffer, whose size is
// capped, and are answered one at a time in the order they came, so a
// pipelining client can queue at most one buffer's worth of work.
#pragma once

#include "http/server/server_shard.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <memory>

namespace callgate::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Starts serving the socket on the shard's reactor; the session keeps
  // itself alive until the connection ends.
  // peer: counted by the shard's admit_address, given back when the session ends.
  static void start(boost::asio::ip::tcp::socket socket, const boost::asio::ip::tcp::endpoint& peer,
                    ServerShard& shard);

  Session(boost::asio::ip::tcp::socket socket, const boost::asio::ip::tcp::endpoint& peer, ServerShard& shard);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Shutting down: an idle connection closes now; a busy one after its answer.
  void drain();
  // The drain deadline passed: close whatever state the connection is in.
  void close();
  // Called by the shard's deadline sweep: cancels the pending read or write
  // once the current phase's deadline has passed.
  void expire_if_due(std::chrono::steady_clock::time_point now);

 private:
  static boost::asio::awaitable<void> serve(std::shared_ptr<Session> session);
  boost::asio::awaitable<void> run();
  // Serves one request; false when the connection must close afterwards.
  boost::asio::awaitable<bool> serve_one();
  boost::asio::awaitable<Response> dispatch(Request& request, const std::string& request_id,
                                            const std::shared_ptr<const Config>& config, std::size_t& route_key,
                                            ConnectionTakeover& takeover);
  boost::asio::awaitable<void> reject(RequestError error, Status status, std::string_view message,
                                      std::chrono::steady_clock::time_point started);
  using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
  // Bytes the kernel holds for this socket that nobody has read yet.
  bool has_unread_bytes();
  // Feeds what is already buffered to the parser; need_more is not an error.
  boost::system::error_code parse_buffered(RequestParser& parser);
  // Writes the response, with the headers every response carries, into wire_.
  void serialize(const Response& response, const std::string& request_id, bool keep_alive, bool head);
  void log_access(std::string_view method, std::string_view target, unsigned status, std::size_t route_key,
                  const std::string& request_id, std::chrono::steady_clock::duration elapsed) const;

  // Sets the deadline of the phase about to start (idle, read or write).
  // No timer per session: a per-shard sweep checks every session's deadline,
  // which keeps timer-queue work and its completions off the request path.
  // from: the clock read the caller already has, so a request reads the
  // clock once instead of at every phase (bench/README.md, "Measurements
  // the code relies on").
  void arm_deadline(std::chrono::milliseconds duration, std::chrono::steady_clock::time_point from);

  boost::asio::ip::tcp::socket socket_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool deadline_passed_ = false;
  boost::beast::flat_buffer buffer_;
  std::string wire_;        // the serialized response, reused from request to request
  std::string request_id_;  // the current request's id, likewise
  ServerShard& shard_;
  boost::asio::ip::tcp::endpoint peer_;
  std::string peer_text_;
  bool idle_ = true;
  bool served_any_ = false;  // a connection that never sent a request gets read_timeout, not idle_timeout
};

}  // namespace callgate::http
