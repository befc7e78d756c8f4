#include "core/redis/redis_script.hpp"

#include "core/crypto.hpp"

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
                                                               std::vector<std::string> keys,
                                                               std::vector<std::string> arguments) {
  std::vector<std::string> command{std::string("EVALSHA"), script.sha1_hex, std::to_string(keys.size())};
  for (auto& key_name : keys) command.push_back(std::move(key_name));
  for (auto& argument : arguments) command.push_back(std::move(argument));
  auto reply = co_await connection.command(command);
  if (const auto* value = std::get_if<Reply>(&reply); value && value->is_error() && value->text.starts_with("NOSCRIPT")) {
    command[0] = "EVAL";
    command[1] = script.text;
    reply = co_await connection.command(std::move(command));
  }
  co_return reply;
}

}  // namespace callgate::redis
