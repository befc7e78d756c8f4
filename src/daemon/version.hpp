#pragma once

#include <string_view>

namespace callgate {

// "0.1.0", from the project version in CMakeLists.txt.
std::string_view version();

}  // namespace callgate
