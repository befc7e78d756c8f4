#include "providers/twilio/client.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

namespace callgate {

std::optional<std::chrono::seconds> parse_retry_after_seconds(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  unsigned seconds = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  // A day is already past any sensible wait; more is a broken header.
  if (seconds > 86'400) seconds = 86'400;
  return std::chrono::seconds(seconds);
}

namespace twilio {
namespace {

std::string string_field(const boost::json::object* object, std::string_view name) {
  if (object == nullptr) return {};
  const auto* value = object->if_contains(name);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

PlaceCallOutcome classify_create_call_response(const ProviderResponse& response) {
  switch (response.failure) {
    case TransportFailure::before_sending: return Retryable{"request not sent: " + response.failure_reason, {}};
    case TransportFailure::after_sending:
      return Ambiguous{"no complete answer after the request was sent: " + response.failure_reason};
    case TransportFailure::none: break;
  }
  boost::system::error_code parse_error;
  const auto parsed = boost::json::parse(response.body, parse_error);
  const boost::json::object* object = !parse_error && parsed.is_object() ? &parsed.as_object() : nullptr;
  const unsigned status = response.status;
  if (status >= 200 && status < 300) {
    const auto sid = string_field(object, "sid");
    if (sid.size() > 2 && sid.starts_with("CA")) return Placed{sid, string_field(object, "status")};
    return Ambiguous{"HTTP " + std::to_string(status) + " without a call sid"};
  }
  const std::string message = string_field(object, "message");
  if (status == 429 || status >= 500)
    return Retryable{"HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message),
                     parse_retry_after_seconds(response.retry_after)};
  int code = static_cast<int>(status);
  if (object != nullptr)
    if (const auto* value = object->if_contains("code"); value && value->is_int64())
      code = static_cast<int>(value->as_int64());
  return Rejected{code, message.empty() ? "HTTP " + std::to_string(status) : message};
}

}  // namespace twilio
}  // namespace callgate
