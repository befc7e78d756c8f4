#include "http/form/multipart_codec.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <cctype>

namespace callgate::http {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The value of parameter name in "form-data; name=\"x\"; filename=...".
std::optional<std::string> header_parameter(std::string_view header, std::string_view name) {
  std::size_t position = 0;
  while ((position = header.find(';', position)) != std::string_view::npos) {
    ++position;
    auto rest = trim(header.substr(position));
    const auto equals = rest.find('=');
    if (equals == std::string_view::npos) continue;
    if (!equals_ignoring_case(trim(rest.substr(0, equals)), name)) continue;
    auto value = rest.substr(equals + 1);
    if (value.starts_with('"')) {
      const auto close = value.find('"', 1);
      if (close == std::string_view::npos) return std::nullopt;
      return std::string(value.substr(1, close - 1));
    }
    return std::string(trim(value.substr(0, value.find(';'))));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto media_type = trim(content_type.substr(0, content_type.find(';')));
  if (!equals_ignoring_case(media_type, "multipart/form-data")) return std::nullopt;
  auto boundary = header_parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  return boundary;
}

std::optional<FormFields> parse_multipart_form(std::string_view body, std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  // The first delimiter may follow a preamble; later ones follow CRLF.
  auto position = body.find(delimiter);
  if (position == std::string_view::npos) return std::nullopt;
  FormFields fields;
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    position += delimiter.size();
    if (body.substr(position, 2) == "--") return fields;  // the closing delimiter
    if (body.substr(position, 2) != "\r\n") return std::nullopt;
    position += 2;
    const auto headers_end = body.find("\r\n\r\n", position);
    if (headers_end == std::string_view::npos) return std::nullopt;
    std::optional<std::string> name;
    auto headers = body.substr(position, headers_end - position);
    while (!headers.empty()) {
      const auto line_end = headers.find("\r\n");
      const auto line = headers.substr(0, line_end);
      headers = line_end == std::string_view::npos ? std::string_view() : headers.substr(line_end + 2);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos && equals_ignoring_case(trim(line.substr(0, colon)), "Content-Disposition"))
        name = header_parameter(line.substr(colon + 1), "name");
    }
    if (!name) return std::nullopt;
    const auto content_start = headers_end + 4;
    const auto content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos) return std::nullopt;
    fields.emplace_back(std::move(*name), std::string(body.substr(content_start, content_end - content_start)));
    position = content_end + 2;
  }
}

}  // namespace callgate::http
