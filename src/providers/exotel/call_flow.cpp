#include "providers/exotel/call_flow.hpp"

#include "providers/exotel/webhook.hpp"

namespace callgate::providers::exotel {

std::string strip_digit_quotes(std::string_view digits) {
  if (digits.size() >= 2 && digits.front() == '"' && digits.back() == '"') digits = digits.substr(1, digits.size() - 2);
  return std::string(digits);
}

std::variant<PassthruRequest, PassthruError> parse_passthru(const http::FormFields& query) {
  PassthruRequest request;
  request.call_sid = std::string(field(query, "CallSid").value_or(""));
  if (request.call_sid.empty()) return PassthruError{"CallSid is missing"};
  auto first_of = [&](std::string_view preferred, std::string_view older) {
    auto value = field(query, preferred);
    if (!value || value->empty()) value = field(query, older);
    return std::string(value.value_or(""));
  };
  request.from = first_of("CallFrom", "From");
  request.to = first_of("CallTo", "To");
  request.digits = strip_digit_quotes(field(query, "digits").value_or(""));
  request.lead_id = lead_id_from_custom_field(field(query, "CustomField").value_or(""));
  request.call_type = std::string(field(query, "CallType").value_or(""));
  return request;
}

}  // namespace callgate::providers::exotel
