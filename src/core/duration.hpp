// Durations as operators write them in the config file: "250ms", "10s", "5m", "1h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace callgate {

using Milliseconds = std::chrono::milliseconds;

// A unit is required: a bare "30" is ambiguous (seconds? milliseconds?) and is
// exactly the kind of mistake that turns a 30 s timeout into 30 ms.
std::optional<Milliseconds> parse_duration(std::string_view text);

// The shortest exact spelling, so a parsed value prints back as the operator wrote it.
std::string format_duration(Milliseconds value);

}  // namespace callgate
