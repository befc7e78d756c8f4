#include "http/server/builtin_endpoints.hpp"

#include "core/log.hpp"

namespace callgate::http {

namespace beast_http = boost::beast::http;
using boost::asio::awaitable;

void register_builtin_endpoints(HttpRouter& router, const MetricsRegistry& metrics,
                                const std::vector<ReadinessCheck>& readiness_checks) {
  router.add(Verb::get, "/healthz", [](RequestContext&) -> awaitable<Response> {
    co_return make_json_response(Status::ok, R"({"status":"ok"})");
  });

  router.add(Verb::get, "/readyz", [&readiness_checks](RequestContext& context) -> awaitable<Response> {
    std::string checks;
    std::optional<std::string> first_failure;
    std::optional<std::string> first_degradation;
    auto record = [&](std::string_view name, const std::optional<std::string>& failure, bool degrades_only) {
      checks += checks.empty() ? "" : ",";
      append_json_string(checks, name, false);
      checks += ":";
      append_json_string(checks, failure ? *failure : "ok", false);
      auto& first = degrades_only ? first_degradation : first_failure;
      if (failure && !first) first = std::string(name) + ": " + *failure;
    };
    record("server", context.shard.draining() ? std::optional<std::string>("draining: shutting down") : std::nullopt,
           false);
    for (const auto& check : readiness_checks) {
      const auto failure = co_await check.probe(context);
      record(check.name, failure,
             check.degrades_only || (failure && check.carried_by_fallback && check.carried_by_fallback()));
    }

    std::string body = first_failure       ? R"({"status":"unavailable","reason":)"
                       : first_degradation ? R"({"status":"degraded","reason":)"
                                           : R"({"status":"ready")";
    if (first_failure)
      append_json_string(body, *first_failure, false);
    else if (first_degradation)
      append_json_string(body, *first_degradation, false);
    body += ",\"checks\":{" + checks + "}}";
    co_return make_json_response(first_failure ? Status::service_unavailable : Status::ok, std::move(body));
  });

  router.add(Verb::get, "/metrics", [&metrics](RequestContext&) -> awaitable<Response> {
    Response response{Status::ok, 11};
    response.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = metrics.render();
    co_return response;
  });
}

}  // namespace callgate::http
