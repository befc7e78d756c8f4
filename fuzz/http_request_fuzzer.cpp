// The request head and body framing as the server reads them: Beast's
// parser with the server's limits, fed in the pieces a socket might hand
// over, then what the session does with a parsed request (the header's
// size, the headers it looks up, the query).
#include "http/server/responses.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace beast_http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks where the input is cut in two, as two reads would.
  const std::size_t cut = size > 1 ? data[0] % size : 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  beast_http::request_parser<beast_http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  boost::system::error_code error;
  std::size_t offset = 0;
  for (const auto end : {std::min(cut, input.size()), input.size()}) {
    while (offset < end && !parser.is_done()) {
      const auto used = parser.put(boost::asio::buffer(input.data() + offset, end - offset), error);
      offset += used;
      if (error == beast_http::error::need_more) {
        error = {};
        break;
      }
      if (error || used == 0) break;
    }
    if (error) break;
  }
  if (parser.is_header_done()) {
    const auto& request = parser.get();
    (void)callgate::http::header_value(request, beast_http::field::connection);
    (void)callgate::http::header_value(request, "X-Twilio-Signature");
    (void)callgate::http::query_fields(request);
    (void)callgate::http::query_parameter(request, "leadId");
    (void)callgate::http::require_content_type(request, {"application/json", "application/x-www-form-urlencoded"},
                                               "id");
  }
  return 0;
}
