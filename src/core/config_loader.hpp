// Reads the YAML config file and the seed environment variables into Config.
// Every problem is reported as "file:line: message" (or "environment NAME:
// message"), all of them at once, so an operator fixes a file in one pass.
#pragma once

#include "core/config.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callgate {

struct ConfigError {
  std::string where;  // "conf/callgate.yaml:12" or "environment TWILIO_AUTH_TOKEN"
  std::string message;
  std::string to_string() const { return where + ": " + message; }
};

struct ConfigLoadResult {
  Config config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

// Looks up one environment variable; empty values count as unset.
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

EnvironmentLookup process_environment();
EnvironmentLookup no_environment();

// The variables that seed the config (conf/callgate.yaml lists each and the key
// it sets; README, Configuration), in the order they are applied.
const std::vector<std::string_view>& seed_environment_variables();

ConfigLoadResult load_config_text(std::string_view yaml_text, std::string_view file_name,
                                  const EnvironmentLookup& environment);
ConfigLoadResult load_config_file(const std::string& path, const EnvironmentLookup& environment);

}  // namespace callgate
