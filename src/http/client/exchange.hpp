// One HTTP exchange as the outbound client sees it: the request to send and
// what came back, including how far it got when it failed. Plain data, so
// providers can build requests and read answers without any I/O.
#pragma once

#include "http/form/form_codec.hpp"

#include <ostream>  // Beast's verb.hpp streams string_views without including it

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace callgate::http {

struct ClientRequest {
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::string url;                                           // absolute: https://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Host, Content-Length, User-Agent
  std::string body;
  // A larger answer than http_client.max_response_bytes may be read (a
  // recording downloaded); nothing: that limit.
  std::optional<std::size_t> max_response_bytes;
};

// Where an exchange failed, if it did. The line that matters to callers is
// whether the request could have reached the server.
enum class TransportFailure {
  none,
  before_sending,  // resolve, connect, TLS handshake, a full pool, or writing the request failed
  after_sending,   // the request was written; no complete response came back
};

struct ClientResponse {
  TransportFailure failure = TransportFailure::none;
  std::string failure_reason;
  // The answer's status; with an after_sending failure, the status line of
  // an answer whose body did not come whole (too large, timed out), else 0.
  unsigned status = 0;
  std::string body;
  std::string retry_after;   // the header's raw value, if any
  std::string content_type;  // the header's raw value, if any
};

// A form-encoded POST with HTTP Basic credentials, asking for JSON: the
// shape of both providers' Create-call requests.
ClientRequest make_form_post(std::string url, const FormFields& fields, std::string_view user,
                             std::string_view password);
// A GET with Basic credentials that asks for JSON.
ClientRequest make_get(std::string url, std::string_view user, std::string_view password);

// The request as it goes on the wire, in one piece: the request line, Host,
// User-Agent, the request's own headers in order, Content-Length when HTTP
// has one for it (a body, or a POST, PUT or OPTIONS without one), the body.
// Nothing when the target, a name or a value would break the framing (a
// control character, a name that is not a token, or one of the headers
// written here or Transfer-Encoding among the request's own): a header can
// carry text from elsewhere (a metadata token, a config value), and a line
// break in it would smuggle a second request.
std::optional<std::string> wire_request(const ClientRequest& request, std::string_view target, std::string_view host,
                                        std::string_view user_agent);

}  // namespace callgate::http
