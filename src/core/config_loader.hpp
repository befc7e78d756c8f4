// Reads the YAML config file and the seed environment variables into Config.
// Every problem is reported as "file:line: message" (or "environment NAME:
// message"), all of them at once, so an operator fixes a file in one pass.
#pragma once

#include "core/config.hpp"
#include "core/config_reader.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callgate {

struct ConfigLoadResult {
  Config config;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

EnvironmentLookup process_environment();
EnvironmentLookup no_environment();

// The variables that seed the config (conf/callgate.yaml lists each and the key
// it sets; README, Configuration), in the order they are applied:
// TELEPHONY_PROVIDER, then each provider section's own.
std::vector<std::string_view> seed_environment_variables(ProviderSections sections);

// sections: the providers' config sections (providers::config_sections()),
// each of which reads telephony.<its name>; core names no provider itself.
ConfigLoadResult load_config_text(std::string_view yaml_text, std::string_view file_name,
                                  const EnvironmentLookup& environment, ProviderSections sections);
ConfigLoadResult load_config_file(const std::string& path, const EnvironmentLookup& environment,
                                  ProviderSections sections);

}  // namespace callgate
