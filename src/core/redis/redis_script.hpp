// A Lua script run on Redis by its SHA-1 (EVALSHA), loaded on every connect
// (SCRIPT LOAD) and sent whole (EVAL) when Redis has lost its script cache
// since (SCRIPT FLUSH, a failover to a replica that never saw it).
#pragma once

#include "core/redis/redis_connection.hpp"

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace callgate::redis {

struct Script {
  explicit Script(std::string text);
  std::string text;
  std::string sha1_hex;
};

// For Connection's on_connected: loads each script; false when one fails.
boost::asio::awaitable<bool> load_scripts(Connection& connection, std::span<const Script* const> scripts);

// Runs the script; a Redis error comes back as a Reply of type error.
boost::asio::awaitable<std::variant<Reply, Failure>> run_script(Connection& connection, const Script& script,
                                                                std::vector<std::string> keys,
                                                                std::vector<std::string> arguments);
// The same without copies (see Connection::command).
boost::asio::awaitable<std::variant<Reply, Failure>> run_script(Connection& connection, const Script& script,
                                                                std::span<const std::string_view> keys,
                                                                std::span<const std::string_view> arguments);

}  // namespace callgate::redis
