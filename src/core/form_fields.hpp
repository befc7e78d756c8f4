// Name-value pairs as a form sends them: what the enquiry reader (core)
// takes and the form codecs (src/http/form) produce.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate {

// In the order sent; a name may repeat (StatusCallbackEvent=initiated&StatusCallbackEvent=ringing).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// The first value of name, or nothing.
inline std::optional<std::string_view> form_value(const FormFields& fields, std::string_view name) {
  for (const auto& [field_name, value] : fields)
    if (field_name == name) return std::string_view(value);
  return std::nullopt;
}

}  // namespace callgate
