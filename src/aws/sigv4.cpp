#include "aws/sigv4.hpp"

#include "core/ascii.hpp"
#include "core/crypto.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace callgate::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  for (auto& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return lower;
}

// A header value as signed: no leading or trailing blanks, and every run of
// blanks inside one space (quoted text included, as AWS does).
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool in_blank = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      in_blank = true;
      continue;
    }
    if (in_blank && !out.empty()) out.push_back(' ');
    in_blank = false;
    out.push_back(c);
  }
  return out;
}

// The path with "." and ".." segments resolved and empty segments dropped
// (what AWS services other than S3 sign), each segment percent-encoded.
std::string canonical_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto segment = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto segment : segments) {
    out.push_back('/');
    out += uri_encode(segment, false);
  }
  // A path that ended in a slash keeps it ("/a/" is not "/a").
  if (out.empty() || (path.size() > 1 && path.back() == '/')) out.push_back('/');
  return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string header_named(const SignableRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers)
    if (equals_ignoring_case(header, name)) return value;
  return {};
}

}  // namespace

std::string amz_date(WallTime time) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  const auto days = floor_div(seconds, 86'400);
  const auto in_day = seconds - days * 86'400;
  const auto date = civil_from_days(days);
  char text[32];
  std::snprintf(text, sizeof text, "%04lld%02u%02uT%02lld%02lld%02lldZ", static_cast<long long>(date.year), date.month,
                date.day, static_cast<long long>(in_day / 3600), static_cast<long long>(in_day / 60 % 60),
                static_cast<long long>(in_day % 60));
  return text;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

CanonicalRequest canonical_request(const SignableRequest& request) {
  // Names lower-cased and sorted; a repeated header's values joined in the order sent.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto [entry, added] = headers.try_emplace(lowercase(name), canonical_header_value(value));
    if (!added) {
      entry->second.push_back(',');
      entry->second += canonical_header_value(value);
    }
  }
  CanonicalRequest canonical;
  std::string& text = canonical.text;
  // Appended piece by piece: GCC 12 sees overlapping copies in chained + here.
  text.append(request.method).append("\n");
  text.append(canonical_path(request.path)).append("\n");
  text.append(canonical_query(request.query)).append("\n");
  for (const auto& [name, value] : headers) {
    text.append(name).append(":").append(value).append("\n");
    if (!canonical.signed_headers.empty()) canonical.signed_headers.push_back(';');
    canonical.signed_headers += name;
  }
  text += "\n" + canonical.signed_headers + "\n" + hex_encode(sha256(request.body));
  return canonical;
}

std::string credential_scope(std::string_view date, const Scope& scope) {
  return std::string(date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
         credential_scope(amz_date.substr(0, 8), scope) + "\n" + hex_encode(sha256(canonical_request));
}

std::string signing_key(std::string_view secret_access_key, std::string_view date, const Scope& scope) {
  const auto dated = hmac_sha256("AWS4" + std::string(secret_access_key), date);
  const auto regional = hmac_sha256(dated, scope.region);
  const auto serviced = hmac_sha256(regional, scope.service);
  return hmac_sha256(serviced, "aws4_request");
}

std::string authorization(const SignableRequest& request, const Credentials& credentials, const Scope& scope) {
  const auto date_time = header_named(request, "X-Amz-Date");
  const auto canonical = canonical_request(request);
  const auto date = std::string_view(date_time).substr(0, 8);
  const auto signature = hex_encode(hmac_sha256(signing_key(credentials.secret_access_key, date, scope),
                                                string_to_sign(date_time, scope, canonical.text)));
  return std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + credential_scope(date, scope) +
         ", SignedHeaders=" + canonical.signed_headers + ", Signature=" + signature;
}

void sign(SignableRequest& request, const Credentials& credentials, const Scope& scope, WallTime now) {
  request.headers.emplace_back("X-Amz-Date", amz_date(now));
  if (!credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.headers.emplace_back("Authorization", authorization(request, credentials, scope));
}

}  // namespace callgate::aws
