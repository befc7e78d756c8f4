// Redis's request format (RESP 2), written here rather than by hiredis's
// printf-like formatter: a command is one array of binary-safe bulk strings,
//   *<count>\r\n  then, per argument,  $<length>\r\n<bytes>\r\n
// and writing it straight into a buffer the connection reuses costs a
// fraction of what hiredis's sds formatting does per command.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace callgate::redis {

// Appends the command to out (which keeps what it held).
void append_command(std::string& out, std::span<const std::string_view> arguments);

}  // namespace callgate::redis
