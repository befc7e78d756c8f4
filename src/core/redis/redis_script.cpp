#include "core/redis/redis_script.hpp"

#include "core/crypto.hpp"

#include <charconv>

namespace callgate::redis {

Script::Script(std::string script_text) : text(std::move(script_text)), sha1_hex(hex_encode(sha1(text))) {}

boost::asio::awaitable<bool> load_scripts(Connection& connection, std::span<const Script* const> scripts) {
  for (const auto* script : scripts) {
    std::vector<std::string> load{std::string("SCRIPT"), std::string("LOAD"), script->text};
    auto reply = co_await connection.command_before_ready(std::move(load));
    if (!std::holds_alternative<Reply>(reply) || std::get<Reply>(reply).is_error()) co_return false;
  }
  co_return true;
}

boost::asio::awaitable<std::variant<Reply, Failure>> run_script(Connection& connection, const Script& script,
                                                                std::span<const std::string_view> keys,
                                                                std::span<const std::string_view> arguments) {
  char count[24];
  const auto count_end = std::to_chars(count, count + sizeof count, keys.size()).ptr;
  std::vector<std::string_view> command;
  command.reserve(3 + keys.size() + arguments.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1_hex);
  command.push_back(std::string_view(count, static_cast<std::size_t>(count_end - count)));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), arguments.begin(), arguments.end());
  auto reply = co_await connection.command(std::span<const std::string_view>(command));
  if (const auto* value = std::get_if<Reply>(&reply);
      value && value->is_error() && value->text.starts_with("NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script.text;
    reply = co_await connection.command(std::span<const std::string_view>(command));
  }
  co_return reply;
}

boost::asio::awaitable<std::variant<Reply, Failure>> run_script(Connection& connection, const Script& script,
                                                                std::vector<std::string> keys,
                                                                std::vector<std::string> arguments) {
  const std::vector<std::string_view> key_views(keys.begin(), keys.end());
  const std::vector<std::string_view> argument_views(arguments.begin(), arguments.end());
  co_return co_await run_script(connection, script, std::span<const std::string_view>(key_views),
                                std::span<const std::string_view>(argument_views));
}

}  // namespace callgate::redis
