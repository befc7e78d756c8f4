#include "http/server/responses.hpp"

#include "core/ascii.hpp"
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

std::optional<Response> require_content_type(const Request& request, std::initializer_list<std::string_view> accepted,
                                             std::string_view request_id) {
  std::string_view media_type = request[beast_http::field::content_type];
  media_type = media_type.substr(0, media_type.find(';'));
  while (!media_type.empty() && (media_type.back() == ' ' || media_type.back() == '\t')) media_type.remove_suffix(1);
  std::string names;
  for (const auto candidate : accepted) {
    if (equals_ignoring_case(media_type, candidate)) return std::nullopt;
    names += (names.empty() ? "" : ", ") + std::string(candidate);
  }
  return make_json_error(Status::unsupported_media_type, "Content-Type must be " + names, request_id);
}

std::string over_capacity_response(std::string_view message, std::string_view request_id, std::string_view date) {
  std::string body = "{\"error\":";
  append_json_string(body, message, false);
  body += ",\"requestId\":";
  append_json_string(body, request_id, false);
  body += "}";
  std::string text;
  text.reserve(256 + body.size());
  text.append("HTTP/1.1 503 Service Unavailable\r\nServer: callgated/" CALLGATE_VERSION "\r\nDate: ")
      .append(date)
      .append("\r\nX-Request-Id: ")
      .append(request_id)
      .append(
          "\r\nContent-Type: application/json\r\nRetry-After: 1\r\nCache-Control: no-store\r\n"
          "Connection: close\r\nContent-Length: ")
      .append(std::to_string(body.size()))
      .append("\r\n\r\n")
      .append(body);
  return text;
}

std::string_view header_value(const Request& request, boost::beast::http::field name) {
  if (name == boost::beast::http::field::unknown) return {};  // every unnamed field would match
  for (const auto& field : request)
    if (field.name() == name) return field.value();
  return {};
}

std::string_view header_value(const Request& request, std::string_view name) {
  for (const auto& field : request) {
    const auto field_name = field.name_string();
    if (field_name.size() == name.size() && equals_ignoring_case(field_name, name)) return field.value();
  }
  return {};
}

std::optional<FormFields> query_fields(const Request& request) {
  const auto target = request.target();
  const auto question = target.find('?');
  if (question == std::string_view::npos) return FormFields{};
  return parse_form(target.substr(question + 1));
}

std::optional<std::string> query_parameter(const Request& request, std::string_view name) {
  const auto fields = query_fields(request);
  if (!fields) return std::nullopt;
  const auto value = form_value(*fields, name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

}  // namespace callgate::http
