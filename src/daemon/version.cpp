#include "daemon/version.hpp"

namespace callgate {

std::string_view version() { return CALLGATE_VERSION; }

}  // namespace callgate
