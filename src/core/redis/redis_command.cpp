#include "core/redis/redis_command.hpp"

#include <charconv>

namespace callgate::redis {
namespace {

void append_header(std::string& out, char kind, std::size_t number) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  out.push_back(kind);
  out.append(digits, static_cast<std::size_t>(end - digits));
  out.append("\r\n", 2);
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> arguments) {
  std::size_t size = 16;
  for (const auto argument : arguments) size += argument.size() + 16;
  out.reserve(out.size() + size);
  append_header(out, '*', arguments.size());
  for (const auto argument : arguments) {
    append_header(out, '$', argument.size());
    out.append(argument.data(), argument.size());
    out.append("\r\n", 2);
  }
}

}  // namespace callgate::redis
