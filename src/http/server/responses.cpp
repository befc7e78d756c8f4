#include "http/server/responses.hpp"

#include "core/log.hpp"

namespace callgate::http {

namespace beast_http = boost::beast::http;

Response make_json_response(Status status, std::string body) {
  Response response{status, 11};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

Response make_json_error(Status status, std::string_view message, std::string_view request_id) {
  std::string body = "{\"error\":";
  append_json_string(body, message, false);
  body += ",\"requestId\":";
  append_json_string(body, request_id, false);
  body += "}";
  return make_json_response(status, std::move(body));
}

std::string_view over_capacity_response() {
  static constexpr std::string_view text =
      "HTTP/1.1 503 Service Unavailable\r\n"
      "Content-Type: application/json\r\n"
      "Retry-After: 1\r\n"
      "Connection: close\r\n"
      "Content-Length: 45\r\n"
      "\r\n"
      "{\"error\":\"too many connections, retry later\"}";
  static_assert(std::string_view("{\"error\":\"too many connections, retry later\"}").size() == 45);
  return text;
}

}  // namespace callgate::http
