#include "providers/routing.hpp"

namespace callgate::providers {

std::vector<ProviderName> providers_for_number(const TelephonyConfig& telephony, std::string_view e164_number) {
  const ProviderRoute* best = nullptr;
  for (const auto& route : telephony.routes)
    if (e164_number.starts_with(route.prefix) && (best == nullptr || route.prefix.size() > best->prefix.size()))
      best = &route;
  if (best != nullptr) return best->providers;
  return {telephony.provider};
}

}  // namespace callgate::providers
