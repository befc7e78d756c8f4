#include "core/redis/redis_command.hpp"

#include <cstring>

namespace callgate::redis {
namespace {

std::size_t decimal_digits(std::size_t number) {
  std::size_t digits = 1;
  for (; number >= 10; number /= 10) ++digits;
  return digits;
}

// Writes "<kind><number>\r\n" at at; returns the end.
char* put_header(char* at, char kind, std::size_t number) {
  *at++ = kind;
  const auto digits = decimal_digits(number);
  for (std::size_t index = digits; index > 0; --index, number /= 10)
    at[index - 1] = static_cast<char>('0' + number % 10);
  at += digits;
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> arguments) {
  // Sized once, then written in place.
  std::size_t size = 3 + decimal_digits(arguments.size());
  for (const auto argument : arguments) size += 5 + decimal_digits(argument.size()) + argument.size();
  const auto start = out.size();
  out.resize(start + size);
  char* at = put_header(out.data() + start, '*', arguments.size());
  for (const auto argument : arguments) {
    at = put_header(at, '$', argument.size());
    if (!argument.empty()) std::memcpy(at, argument.data(), argument.size());
    at += argument.size();
    *at++ = '\r';
    *at++ = '\n';
  }
}

}  // namespace callgate::redis
