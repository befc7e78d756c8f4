#include "http/endpoints/enquiry_form_endpoints.hpp"

#include "http/endpoints/enquiry_assets.hpp"
#include "http/endpoints/enquiry_page.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace callgate::http {
namespace {

namespace beast_http = boost::beast::http;
using boost::asio::awaitable;

// Static files other sites load too: cached briefly, never sniffed.
Response asset(std::string_view content_type, std::string body) {
  Response response{Status::ok, 11};
  response.set(beast_http::field::content_type, content_type);
  response.set(beast_http::field::cache_control, "public, max-age=300");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Cross-Origin-Resource-Policy", "cross-origin");
  response.body() = std::move(body);
  return response;
}

}  // namespace

std::string embed_settings_json(const Config& config) {
  return boost::json::serialize(boost::json::object{{"consentText", config.intake.consent_text},
                                                    {"countryCode", config.intake.default_country_code}});
}

void register_enquiry_form_endpoints(HttpRouter& router) {
  router.add(Verb::get, "/", [](RequestContext& context) -> awaitable<Response> {
    co_return make_page_response(Status::ok, render_enquiry_page(context.config));
  });
  router.add(Verb::get, "/embed.js", [](RequestContext& context) -> awaitable<Response> {
    std::string script(embed_script());
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "(" + text.
    script += '(';
    script += embed_settings_json(context.config);
    script += ");\n";
    co_return asset("text/javascript; charset=utf-8", std::move(script));
  });
  // Browsers ask for it on every page: nothing, rather than a 404.
  router.add(Verb::get, "/favicon.ico", [](RequestContext&) -> awaitable<Response> {
    Response response{Status::no_content, 11};
    response.set(beast_http::field::cache_control, "public, max-age=86400");
    co_return response;
  });
  router.add(Verb::get, "/embed.css", [](RequestContext&) -> awaitable<Response> {
    co_return asset("text/css; charset=utf-8", std::string(embed_stylesheet()));
  });
}

}  // namespace callgate::http
