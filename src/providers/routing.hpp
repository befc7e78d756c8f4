// Which providers dial a number, in order of preference: the route with the
// longest prefix of the number (telephony.routes), else telephony.provider
// alone. The dialer walks the list when a provider is down. Pure.
#pragma once

#include "core/config.hpp"

#include <string_view>
#include <vector>

namespace callgate::providers {

std::vector<ProviderName> providers_for_number(const TelephonyConfig& telephony, std::string_view e164_number);

}  // namespace callgate::providers
