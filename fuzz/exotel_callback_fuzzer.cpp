// An Exotel callback as the webhook endpoint reads it: the body in its
// three formats (by a Content-Type from the input), the parser into a call
// event, and the authentication checks with credentials from the input.
#include "core/lead/lead_json.hpp"
#include "providers/exotel/webhook.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::string_view kTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                         "multipart/form-data; boundary=b0undary", "text/plain"};
  const auto content_type = kTypes[data[0] % 4];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto newline = input.find('\n');
  const auto signature = input.substr(0, std::min<std::size_t>(newline, 128));
  const auto body = newline == std::string_view::npos ? input : input.substr(newline + 1);
  if (const auto fields = callgate::providers::exotel::callback_fields(content_type, body)) {
    auto parsed = callgate::providers::exotel::parse_status_callback(*fields, "");
    if (const auto* event = std::get_if<callgate::CallEvent>(&parsed)) {
      boost::system::error_code error;
      const auto stored = callgate::parse_stored_json(boost::json::serialize(callgate::to_json(*event)), error);
      if (error || !callgate::call_event_from_json(stored)) std::abort();
    }
    if (const auto custom = callgate::providers::exotel::field(*fields, "CustomField"))
      (void)callgate::providers::exotel::lead_id_from_custom_field(*custom);
  }
  callgate::providers::exotel::ExotelSettings exotel;
  exotel.webhook_secret = "secret";
  exotel.webhook_auth.callback_token = "token";
  exotel.webhook_auth.basic_username = "user";
  exotel.webhook_auth.basic_password = "password";
  const callgate::providers::exotel::WebhookCredentials credentials{"POST",
                                                                    "https://gw.example.in/webhook/exotel?token=token",
                                                                    body,
                                                                    signature,
                                                                    signature,
                                                                    std::string(signature),
                                                                    boost::asio::ip::make_address("203.0.113.9")};
  if (!callgate::providers::exotel::authentication_failure(exotel, credentials).has_value())
    std::abort();  // no forged pass
  return 0;
}
