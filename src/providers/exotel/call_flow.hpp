// What Exotel's call flow asks of callgate: the Passthru applet's GET, which
// reports where the call is and what the caller keyed in. Pure.
#pragma once

#include "http/form/form_codec.hpp"

#include <string>
#include <variant>

namespace callgate::providers::exotel {

struct PassthruRequest {
  std::string call_sid;
  std::string from;     // CallFrom, or From on older flows
  std::string to;       // CallTo, or To
  std::string digits;   // without the double quotes Exotel wraps them in
  std::string lead_id;  // from CustomField
  std::string call_type;
};

struct PassthruError {
  std::string message;
};

std::variant<PassthruRequest, PassthruError> parse_passthru(const http::FormFields& query);

// "\"123\"" -> "123"; anything else as it is.
std::string strip_digit_quotes(std::string_view digits);

}  // namespace callgate::providers::exotel
