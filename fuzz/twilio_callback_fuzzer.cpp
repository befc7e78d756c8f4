// A Twilio status callback as the webhook endpoint reads it: the form body,
// the signature check over it (with a signature taken from the input), and
// the parser into a call event, which must then store and read back.
#include "core/lead/lead_json.hpp"
#include "http/form/form_codec.hpp"
#include "providers/twilio/signature.hpp"
#include "providers/twilio/webhook.hpp"

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // "signature\nbody"
  const auto newline = input.find('\n');
  const auto signature = input.substr(0, std::min<std::size_t>(newline, 64));
  const auto body = newline == std::string_view::npos ? input : input.substr(newline + 1);
  const auto fields = callgate::http::parse_form(body);
  if (!fields) return 0;
  const std::string url = "https://gw.example.com/webhook/twilio?leadId=01M8";
  // A signature that is none of the ones computed (the URL as given, or with
  // its default port, which Twilio may have signed) must never pass.
  if (callgate::providers::twilio::is_valid_signature("token", url, *fields, signature) &&
      signature != callgate::providers::twilio::compute_signature("token", url, *fields) &&
      signature != callgate::providers::twilio::compute_signature(
                       "token", "https://gw.example.com:443/webhook/twilio?leadId=01M8", *fields))
    std::abort();
  (void)callgate::providers::twilio::is_valid_json_signature("token", url, body, signature);
  auto parsed = callgate::providers::twilio::parse_status_callback(*fields, "01M8", "");
  if (const auto* event = std::get_if<callgate::CallEvent>(&parsed)) {
    boost::system::error_code error;
    const auto stored = callgate::parse_stored_json(boost::json::serialize(callgate::to_json(*event)), error);
    if (error || !callgate::call_event_from_json(stored)) std::abort();  // what is stored reads back
  }
  return 0;
}
