#include "core/provider_settings.hpp"

#include <ostream>

namespace callgate {

std::ostream& operator<<(std::ostream& out, const ProviderName& name) { return out << name.text(); }

void apply_environment_bindings(const EnvironmentLookup& environment, const std::vector<EnvironmentBinding>& bindings,
                                ConfigDiagnostics& diagnostics) {
  for (const auto& binding : bindings) {
    if (auto value = environment(binding.variable)) {
      *binding.target = *value;
      diagnostics.remember(binding.key, "environment " + std::string(binding.variable));
    }
  }
}

}  // namespace callgate
