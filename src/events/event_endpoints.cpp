#include "events/event_endpoints.hpp"

#include "core/civil_time.hpp"
#include "http/endpoints/lead_endpoints.hpp"
#include "http/server/responses.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace callgate::events {

namespace json = boost::json;
using boost::asio::awaitable;
using http::RequestContext;
using http::Response;
using Status = boost::beast::http::status;

namespace {

// No outbox: events.endpoints is empty, and there is nothing to show.
std::size_t endpoint_count(const EventOutbox* outbox) { return outbox ? outbox->endpoints().size() : 0; }

awaitable<Response> show_endpoints(RequestContext& context, const EventOutbox* outbox, const Clock& clock) {
  if (auto refusal = http::require_admin(context)) co_return std::move(*refusal);
  json::array endpoints;
  const auto now = clock.now();
  for (std::size_t index = 0; index < endpoint_count(outbox); ++index) {
    const auto state = outbox->state(index, now);
    json::object entry{{"name", outbox->endpoints()[index].name},
                       {"owed", state.owed},
                       {"leadsOwed", state.leads},
                       {"failed", state.failed},
                       {"delivered", state.delivered},
                       {"retried", state.retried},
                       {"gaveUp", state.gave_up}};
    if (state.oldest_owed) entry["oldestOwedAt"] = format_iso8601(*state.oldest_owed);
    if (state.resting_until) entry["restingUntil"] = format_iso8601(*state.resting_until);
    endpoints.push_back(std::move(entry));
  }
  co_return http::make_json_response(Status::ok, json::serialize(json::object{{"endpoints", std::move(endpoints)}}));
}

awaitable<Response> show_failed(RequestContext& context, const EventOutbox* outbox) {
  if (auto refusal = http::require_admin(context)) co_return std::move(*refusal);
  std::size_t limit = 100;
  if (auto text = http::query_parameter(context.request, "limit"); text && !text->empty()) {
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (error != std::errc{} || end != text->data() + text->size() || limit < 1 || limit > 10'000)
      co_return http::make_json_error(Status::bad_request, "limit must be a whole number from 1 to 10000",
                                      context.request_id);
  }
  std::optional<std::size_t> only;
  if (auto name = http::query_parameter(context.request, "endpoint"); name && !name->empty()) {
    if (outbox) only = outbox->endpoint_named(*name);
    if (!only) co_return http::make_json_error(Status::not_found, "no such endpoint", context.request_id);
  }
  json::array failed;
  for (std::size_t index = 0; index < endpoint_count(outbox); ++index) {
    if (only && *only != index) continue;
    auto events = outbox->failed_events(index);
    for (auto each = events.rbegin(); each != events.rend() && failed.size() < limit; ++each) {
      boost::system::error_code error;
      auto payload = json::parse(each->event->payload, error);
      failed.push_back(json::object{{"endpoint", outbox->endpoints()[index].name},
                                    {"id", each->event->id},
                                    {"type", each->event->type},
                                    {"leadId", each->event->lead_id},
                                    {"at", format_iso8601(each->event->at)},
                                    {"reason", each->reason},
                                    {"failedAt", format_iso8601(each->at)},
                                    {"payload", error ? json::value() : std::move(payload)}});
    }
  }
  co_return http::make_json_response(Status::ok, json::serialize(json::object{{"failed", std::move(failed)}}));
}

awaitable<Response> redeliver(RequestContext& context, EventOutbox* outbox, const Clock& clock) {
  if (auto refusal = http::require_admin(context)) co_return std::move(*refusal);
  boost::system::error_code error;
  const auto body = json::parse(context.request.body(), error);
  const auto* object = error ? nullptr : body.if_object();
  const auto* endpoint = object ? object->if_contains("endpoint") : nullptr;
  const auto* id = object ? object->if_contains("id") : nullptr;
  if (!endpoint || !endpoint->is_string() || !id || !id->is_string())
    co_return http::make_json_error(Status::bad_request,
                                    R"(expected a JSON object {"endpoint": "<name>", "id": "<event id>"})",
                                    context.request_id);
  const auto index = outbox ? outbox->endpoint_named(endpoint->as_string()) : std::nullopt;
  if (!index) co_return http::make_json_error(Status::not_found, "no such endpoint", context.request_id);
  if (!outbox->redeliver(*index, id->as_string(), clock.now()))
    co_return http::make_json_error(Status::not_found, "no failed event with that id at that endpoint",
                                    context.request_id);
  co_return http::make_json_response(Status::accepted,
                                     json::serialize(json::object{{"redelivering", id->as_string()}}));
}

}  // namespace

void register_event_endpoints(http::HttpRouter& router, EventOutbox* outbox, const Clock& clock) {
  using Verb = boost::beast::http::verb;
  router.add(Verb::get, "/events",
             [outbox, &clock](RequestContext& context) { return show_endpoints(context, outbox, clock); });
  router.add(Verb::get, "/events/failed", [outbox](RequestContext& context) { return show_failed(context, outbox); });
  router.add(Verb::post, "/events/redeliver",
             [outbox, &clock](RequestContext& context) { return redeliver(context, outbox, clock); });
}

}  // namespace callgate::events
