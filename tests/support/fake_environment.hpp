// An environment for tests: the variables given, nothing else (an empty
// value counts as set, as the process environment's does here).
#pragma once

#include "core/config_reader.hpp"

#include <map>
#include <string>

namespace callgate::testing {

inline EnvironmentLookup fake_environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(std::string(name));
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

}  // namespace callgate::testing
