// Exotel's status callbacks turned into normalized CallEvents, and how a
// request is shown to come from Exotel, which signs nothing. Pure.
#pragma once

#include "core/config.hpp"
#include "core/lead/lead.hpp"
#include "http/form/form_codec.hpp"
#include "http/server/responses.hpp"
#include "providers/exotel/settings.hpp"

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace callgate::providers::exotel {

// The callback's fields whatever it was sent as: JSON (nested objects and
// arrays flattened the way forms spell them, Legs[0][Status]),
// multipart/form-data, or application/x-www-form-urlencoded. Nothing when
// the body does not parse as what its Content-Type says.
std::optional<http::FormFields> callback_fields(std::string_view content_type, std::string_view body);

struct WebhookError {
  std::string message;
};

// Reads CallSid, Status (or EventType=answered), RecordingUrl,
// ConversationDuration (else the first leg's OnCallDuration), DateUpdated,
// CustomField (the lead id), and AnsweredBy (top level or the first leg);
// field names in any case. lead_id_from_url: the callback URL's leadId.
std::variant<CallEvent, WebhookError> parse_status_callback(const http::FormFields& fields,
                                                            std::string_view lead_id_from_url);

// Exotel's "YYYY-MM-DD HH:mm:ss", in India Standard Time (UTC+05:30), the
// zone Exotel's accounts report in.
std::optional<WallTime> parse_exotel_time(std::string_view text);

// Exotel's status words ("answered", "cancelled", any case) as call statuses.
std::optional<CallStatus> status_from_exotel(std::string_view raw);

// The lead id in a CustomField: {"leadId": "..."} as callgate writes it, or
// a bare id; empty when it holds neither.
std::string lead_id_from_custom_field(std::string_view custom_field);

// A field by name, ignoring case (Exotel's spelling varies).
std::optional<std::string_view> field(const http::FormFields& fields, std::string_view name);

// What a request carries that may prove it is Exotel's.
struct WebhookCredentials {
  std::string_view method;  // as sent: "POST", "GET"
  std::string_view url;     // the public URL the request was sent to, query included
  std::string_view body;
  std::string_view signature;        // X-Exotel-Signature
  std::string_view authorization;    // Authorization
  std::optional<std::string> token;  // the token query parameter
  boost::asio::ip::address peer;
};

// Nothing when every check the config turns on passes; else a short reason
// (a metric label). With no check on, only allow_unauthenticated lets a
// request in.
std::optional<std::string> authentication_failure(const ExotelSettings& exotel, const WebhookCredentials& credentials);

// What X-Exotel-Signature signs: the method, the full public URL (query
// included) and the body, each on its own line. The body alone left the
// query (leadId, CallSid, digits) open to change, and made a GET's
// signature a constant: a password that never changes.
std::string signed_request_text(std::string_view method, std::string_view url, std::string_view body);

// signed_request_text's HMAC-SHA256 with secret, as hex (lowercase).
std::string request_signature(std::string_view secret, std::string_view method, std::string_view url,
                              std::string_view body);

// Whether signature (hex in either case, or base64) is that HMAC.
bool is_valid_request_signature(std::string_view secret, std::string_view method, std::string_view url,
                                std::string_view body, std::string_view signature);

}  // namespace callgate::providers::exotel
