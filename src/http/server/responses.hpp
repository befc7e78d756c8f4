// The request and response types every handler sees, and the JSON answers
// the server gives on its own (errors, 404/405/413/...).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/form/form_codec.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace callgate::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;

// {"error": message, "requestId": id} with Content-Type application/json.
Response make_json_error(Status status, std::string_view message, std::string_view request_id);

// A response whose body is already serialized JSON.
Response make_json_response(Status status, std::string body);

// A 415 answer unless the request's media type (Content-Type without its
// parameters, compared case-insensitively) is one of accepted.
std::optional<Response> require_content_type(const Request& request, std::initializer_list<std::string_view> accepted,
                                             std::string_view request_id);

// The request target's query string as form fields: empty when there is
// none, nothing when it is malformed.
std::optional<FormFields> query_fields(const Request& request);
// One query parameter, decoded; nothing if absent or the query is malformed.
std::optional<std::string> query_parameter(const Request& request, std::string_view name);

// A request header's first value, empty when it is absent, found by a walk
// over the request's fields in the order they came. Beast's own look-up
// (request[name]) turns even a known field's name into text and compares
// names case-insensitively down a tree, many times the cost of a walk over
// a webhook's ten or so fields (bench/README.md, "Measurements the code
// relies on"). For the hot path; anywhere else either will do.
std::string_view header_value(const Request& request, boost::beast::http::field name);
std::string_view header_value(const Request& request, std::string_view name);

// The 503 sent, without reading anything, to a connection over a limit;
// written straight to the socket, so it is a complete HTTP message with the
// headers every answer carries.
std::string over_capacity_response(std::string_view message, std::string_view request_id, std::string_view date);

}  // namespace callgate::http
