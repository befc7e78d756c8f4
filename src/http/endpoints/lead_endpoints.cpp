#include "http/endpoints/lead_endpoints.hpp"

#include "http/endpoints/enquiry_page.hpp"

#include "core/ascii.hpp"
#include "core/civil_time.hpp"
#include "core/crypto.hpp"
#include "core/lead/enquiry.hpp"
#include "core/lead/lead_id.hpp"
#include "core/lead/lead_json.hpp"
#include "core/log.hpp"
#include "core/utf8.hpp"
#include "http/form/form_codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

namespace callgate::http {

namespace json = boost::json;
namespace beast_http = boost::beast::http;
using boost::asio::awaitable;

namespace {

constexpr std::size_t kMaxIdempotencyKey = 128;
constexpr std::size_t kMaxUserAgent = 512;
constexpr std::size_t kMaxListLimit = 500;

// The Origin, when the config allows it to post from a browser.
std::optional<std::string> allowed_origin(const RequestContext& context) {
  const auto origin = context.request[beast_http::field::origin];
  if (origin.empty()) return std::nullopt;
  const auto& allowed = context.config.intake.cors_allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return std::nullopt;
  return std::string(origin);
}

// A browser names the page that posts (Origin). A page of this daemon (the
// same host) or of a listed origin may post an enquiry; any other page is
// refused, so a hostile site cannot make its visitors' browsers submit
// enquiries, each from an address of its own and so past the per-address
// limit. A request without Origin is no browser's page (a server, curl):
// neither CORS nor this is access control for it.
bool origin_may_post(const RequestContext& context) {
  const auto origin = context.request[beast_http::field::origin];
  if (origin.empty() || allowed_origin(context)) return true;
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;  // "null": a sandboxed or file page
  // callgated's own page: its public address (a proxy in front may send
  // another Host), or the host the request was sent to.
  const std::string_view base = context.config.server.public_base_url;
  const auto base_authority = base.find("://");
  const auto base_origin =
      base_authority == std::string_view::npos ? base : base.substr(0, base.find('/', base_authority + 3));
  if (origin == base_origin) return true;
  const auto host = context.request[beast_http::field::host];
  return !host.empty() && origin.substr(scheme_end + 3) == host;
}

Response with_cors(Response response, const RequestContext& context) {
  if (auto origin = allowed_origin(context)) {
    response.set(beast_http::field::access_control_allow_origin, *origin);
    response.set(beast_http::field::vary, "Origin");
  }
  return response;
}

Response validation_error(const FieldErrors& errors, std::string_view request_id) {
  json::object fields;
  for (const auto& [name, message] : errors) fields[name] = message;
  json::object body{{"error", "the enquiry is not valid"}, {"fields", std::move(fields)}, {"requestId", request_id}};
  return make_json_response(Status::unprocessable_entity, json::serialize(body));
}

// What the store keys an Idempotency-Key by: the client's address and the
// key, hashed (so the store holds neither the key nor, beside it, the address).
std::string scoped_idempotency_key(std::string_view client, std::string_view key) {
  std::string scoped(client);
  scoped.push_back('\n');
  scoped.append(key);
  return "k1:" + hex_encode(sha256(scoped)).substr(0, 40);
}

// Stores an enquiry's lead, with its first call where the dialer keeps its
// jobs beside the leads.
awaitable<store::StoreResult<store::CreateResult>> store_enquiry(LeadServices& services,
                                                                 const store::CreateRequest& create,
                                                                 bool with_first_call) {
  if (with_first_call) co_return co_await services.dialer.create_with_first_call(create);
  co_return co_await services.store.create(create);
}

awaitable<Response> enquire(RequestContext& context, LeadServices& services) {
  const auto& intake = context.config.intake;
  auto count = [&](std::string_view result) {
    context.shard.metrics().counter(services.ids.enquiries, {{"result", result}}).increment();
  };

  const auto client = client_address(context);
  if (auto wait = services.rate_limiter.take(client, intake.rate_per_minute, intake.rate_burst)) {
    count("rate_limited");
    auto response = make_json_error(Status::too_many_requests, "too many enquiries from this address; try later",
                                    context.request_id);
    response.set(beast_http::field::retry_after,
                 std::to_string(std::max<std::int64_t>(1, (wait->count() + 999) / 1000)));
    co_return with_cors(std::move(response), context);
  }

  if (!origin_may_post(context)) {
    count("foreign_origin");
    co_return make_json_error(Status::forbidden,
                              "pages of this origin may not post enquiries (intake.cors_allowed_origins)",
                              context.request_id);
  }
  if (auto refusal = require_content_type(context.request, {"application/json", "application/x-www-form-urlencoded"},
                                          context.request_id)) {
    count("unsupported_media_type");
    co_return with_cors(std::move(*refusal), context);
  }
  const auto type = context.request[beast_http::field::content_type];
  std::variant<Enquiry, FieldErrors> read;
  if (type.substr(0, type.find(';')).find("json") != std::string_view::npos) {
    boost::system::error_code error;
    const auto body = json::parse(context.request.body(), error);
    if (error) {
      count("malformed");
      co_return with_cors(make_json_error(Status::bad_request, "the body is not valid JSON", context.request_id),
                          context);
    }
    read = read_enquiry_json(body, intake);
  } else {
    const auto fields = parse_form(context.request.body());
    if (!fields) {
      count("malformed");
      co_return with_cors(make_json_error(Status::bad_request, "the body is not valid form data", context.request_id),
                          context);
    }
    read = read_enquiry_form(*fields, intake);
  }
  if (auto* errors = std::get_if<FieldErrors>(&read)) {
    count("invalid");
    co_return with_cors(validation_error(*errors, context.request_id), context);
  }
  auto& enquiry = std::get<Enquiry>(read);

  const auto key = context.request["Idempotency-Key"];
  if (key.size() > kMaxIdempotencyKey) {
    count("invalid");
    co_return with_cors(validation_error({{"Idempotency-Key", "is longer than 128 characters"}}, context.request_id),
                        context);
  }

  // Each reactor thread has its own generator: no lock, ids still unique
  // (80 random bits each).
  thread_local LeadIdGenerator ids;
  const auto now = WallClock::now();
  store::CreateRequest create;
  create.lead.id = ids.next(now);
  create.lead.phone = enquiry.phone.e164;
  create.lead.name = std::move(enquiry.name);
  create.lead.email = std::move(enquiry.email);
  create.lead.source = std::move(enquiry.source);
  create.lead.metadata_json = std::move(enquiry.metadata_json);
  // Served back as JSON (GET /leads): kept as UTF-8 whatever the client sent.
  create.lead.consent = {now, client,
                         to_valid_utf8(context.request[beast_http::field::user_agent].substr(0, kMaxUserAgent)),
                         intake.consent_text_version};
  create.lead.created = now;
  create.lead.updated = now;
  // Scoped to the client: the same key from another address is another
  // key, so a key seen (or guessed) elsewhere never leads to someone's lead.
  if (!key.empty()) create.idempotency_key = scoped_idempotency_key(client, key);
  if (intake.duplicate_window.count() > 0) create.same_phone_since = now - intake.duplicate_window;

  // Where the dialer's jobs live beside the leads, the lead and its first
  // call are one write; otherwise the call is handed over below.
  const bool handed_with_lead = services.dialer.stores_first_call_with_lead();
  auto stored = co_await store_enquiry(services, create, handed_with_lead);
  // The number's lead within the window, its calls over: a visitor asking
  // again after the call gets a new lead and a new call (unless the
  // business said same_lead), as if the window ended with that lead. The
  // same request again: a repeated Idempotency-Key still finds its lead.
  if (const auto* first = std::get_if<store::CreateResult>(&stored);
      first && !first->created && create.same_phone_since && intake.repeat_when_done == RepeatWhenDone::call_again &&
      services.dialer.calls_are_over(first->lead)) {
    // Stores keep creation times to the millisecond and find a number's
    // latest lead by id: the new lead is at least a millisecond later than
    // the finished one, its id after it, so it is the one found next.
    const auto after_first = first->lead.created + std::chrono::milliseconds(1);
    create.same_phone_since = std::max(*create.same_phone_since, after_first);
    create.lead.created = std::max(create.lead.created, after_first);
    create.lead.updated = create.lead.created;
    create.lead.id = ids.next(create.lead.created);
    stored = co_await store_enquiry(services, create, handed_with_lead);
  }
  if (auto* error = std::get_if<store::StoreError>(&stored)) {
    count("store_unavailable");
    LogLine(LogLevel::error, "enquiry_not_stored").text("reason", error->message);
    auto response =
        make_json_error(Status::service_unavailable, "the enquiry could not be stored; try again", context.request_id);
    response.set(beast_http::field::retry_after, "5");
    co_return with_cors(std::move(response), context);
  }
  const auto& result = std::get<store::CreateResult>(stored);
  // The same number within duplicate_window from another client: that
  // client gets a handle of its own, never the first client's lead id
  // (which /enquire/{id} would turn into a view of the first caller's
  // call). The number is still called once, as the window promises.
  if (!result.created && result.lead.consent.client_address != client) {
    count("duplicate");
    json::object duplicate{{"leadId", ids.next(now)}, {"status", "duplicate"}, {"existing", true}};
    co_return with_cors(make_json_response(Status::accepted, json::serialize(duplicate)), context);
  }
  json::object body{{"leadId", result.lead.id}, {"status", to_string(result.lead.status)}};
  if (!result.created) body["existing"] = true;
  count(result.created ? "created" : "existing");

  if (result.created)
    LogLine(LogLevel::info, "lead_created")
        .trusted_text("lead_id", result.lead.id)
        .text("phone", result.lead.phone)
        .trusted_text("request_id", context.request_id);
  if (result.lead.attempts.empty() && !(handed_with_lead && result.created)) {
    // Its first call, durably in the dialer's hands before the answer (an
    // existing lead whose hand-over failed before gets it now).
    auto handed = co_await services.dialer.enqueue_first_call(result.lead);
    if (auto* error = std::get_if<store::StoreError>(&handed)) {
      count("dialer_unavailable");
      LogLine(LogLevel::error, "first_call_not_scheduled")
          .trusted_text("lead_id", result.lead.id)
          .text("reason", error->message);
      auto response = make_json_error(Status::service_unavailable, "the call could not be scheduled; try again",
                                      context.request_id);
      response.set(beast_http::field::retry_after, "5");
      co_return with_cors(std::move(response), context);
    }
  }
  co_return with_cors(make_json_response(Status::accepted, json::serialize(body)), context);
}

// A browser's CORS preflight: POST /enquire from the form's page, and the
// GET /enquire/{id} status poll (preflighted when the page adds a header).
awaitable<Response> preflight(RequestContext& context, std::string_view methods, std::string_view headers) {
  if (!allowed_origin(context))
    co_return make_json_error(Status::forbidden, "this origin may not use this endpoint", context.request_id);
  Response response{Status::no_content, 11};
  response.set(beast_http::field::access_control_allow_methods, methods);
  response.set(beast_http::field::access_control_allow_headers, headers);
  response.set(beast_http::field::access_control_max_age, "600");
  co_return with_cors(std::move(response), context);
}

awaitable<Response> get_lead(RequestContext& context, store::LeadStore& store, dialer::DialScheduler& scheduler) {
  if (auto refusal = require_admin(context)) co_return std::move(*refusal);
  const auto id = context.parameters.get("id").value_or("");
  if (!is_lead_id(id)) co_return make_json_error(Status::not_found, "no such lead", context.request_id);
  auto found = co_await store.get(std::string(id));
  if (auto* error = std::get_if<store::StoreError>(&found)) {
    if (error->failure == store::StoreFailure::not_found)
      co_return make_json_error(Status::not_found, "no such lead", context.request_id);
    co_return make_json_error(Status::service_unavailable, "the store is unavailable", context.request_id);
  }
  auto body = to_json(std::get<Lead>(found));
  // The next call the dialer holds for it, and why (a retry, a redial, calling hours).
  auto next = co_await scheduler.job_for(std::string(id));
  if (auto* job = std::get_if<std::optional<dialer::DialJob>>(&next); job && job->has_value())
    body["nextCall"] =
        json::object{{"call", (*job)->call}, {"due", format_iso8601((*job)->due)}, {"reason", (*job)->reason}};
  co_return make_json_response(Status::ok, json::serialize(body));
}

// A lead's status alone, for the page that took the enquiry: no admin
// token, so nothing else (the id, unguessable, is what it knows).
awaitable<Response> enquiry_status(RequestContext& context, LeadServices& services) {
  const auto& intake = context.config.intake;
  if (auto wait = services.status_rate_limiter.take(client_address(context), intake.status_rate_per_minute,
                                                    intake.status_rate_burst)) {
    auto response = make_json_error(Status::too_many_requests, "too many status requests from this address; try later",
                                    context.request_id);
    response.set(beast_http::field::retry_after,
                 std::to_string(std::max<std::int64_t>(1, (wait->count() + 999) / 1000)));
    co_return with_cors(std::move(response), context);
  }
  auto& store = services.store;
  const auto id = context.parameters.get("id").value_or("");
  if (!is_lead_id(id))
    co_return with_cors(make_json_error(Status::not_found, "no such enquiry", context.request_id), context);
  auto found = co_await store.get(std::string(id));
  if (auto* error = std::get_if<store::StoreError>(&found)) {
    auto response = error->failure == store::StoreFailure::not_found
                        ? make_json_error(Status::not_found, "no such enquiry", context.request_id)
                        : make_json_error(Status::service_unavailable, "the store is unavailable", context.request_id);
    co_return with_cors(std::move(response), context);
  }
  const auto& lead = std::get<Lead>(found);
  auto response = make_json_response(
      Status::ok, json::serialize(json::object{{"leadId", lead.id}, {"status", to_string(lead.status)}}));
  response.set(beast_http::field::cache_control, "no-store");
  co_return with_cors(std::move(response), context);
}

// A plain form post from a browser (no script ran) gets a page back, not JSON.
awaitable<Response> enquire_from_any_page(RequestContext& context, LeadServices& services) {
  auto answer = co_await enquire(context, services);
  if (!wants_html_answer(context.request)) co_return answer;
  const auto submitted = parse_form(context.request.body());
  co_return render_enquiry_answer(context.config, answer, submitted.value_or(FormFields{}));
}

awaitable<Response> list_leads(RequestContext& context, store::LeadStore& store) {
  if (auto refusal = require_admin(context)) co_return std::move(*refusal);
  store::LeadQuery query;
  if (auto status = query_parameter(context.request, "status"); status && !status->empty()) {
    query.status = parse_lead_status(*status);
    if (!query.status)
      co_return make_json_error(Status::bad_request, "status is not a lead status", context.request_id);
  }
  if (auto since = query_parameter(context.request, "since"); since && !since->empty()) {
    query.created_since = parse_iso8601(*since);
    if (!query.created_since)
      co_return make_json_error(Status::bad_request, "since must be an ISO 8601 time such as 2026-11-25T10:00:00Z",
                                context.request_id);
  }
  if (auto limit = query_parameter(context.request, "limit"); limit && !limit->empty()) {
    auto parsed = parse_decimal<std::size_t>(*limit);
    if (!parsed || *parsed < 1 || *parsed > kMaxListLimit)
      co_return make_json_error(Status::bad_request, "limit must be 1 to 500", context.request_id);
    query.limit = *parsed;
  }
  if (auto cursor = query_parameter(context.request, "cursor"); cursor && !cursor->empty()) {
    if (!is_lead_id(*cursor)) co_return make_json_error(Status::bad_request, "cursor is not valid", context.request_id);
    query.after_id = *cursor;
  }
  auto page = co_await store.list(std::move(query));
  if (std::holds_alternative<store::StoreError>(page))
    co_return make_json_error(Status::service_unavailable, "the store is unavailable", context.request_id);
  const auto& leads = std::get<store::LeadPage>(page);
  json::array items;
  for (const auto& lead : leads.leads) items.push_back(to_json(lead));
  json::object body{{"leads", std::move(items)}};
  if (!leads.next_cursor.empty()) body["nextCursor"] = leads.next_cursor;
  co_return make_json_response(Status::ok, json::serialize(body));
}

}  // namespace

LeadMetricIds declare_lead_metrics(MetricsRegistry& registry) {
  return {registry.declare_counter("callgate_enquiries_total", "POST /enquire requests by result."),
          registry.declare_counter("callgate_calls_placed_total",
                                   "Requests to providers to place a call, by how the provider answered.")};
}

SharedRateLimiter::SharedRateLimiter(unsigned per_minute, unsigned burst)
    : limiter_(static_cast<double>(per_minute) / 60.0, static_cast<double>(burst)) {}

std::optional<std::chrono::milliseconds> SharedRateLimiter::take(const std::string& client, unsigned per_minute,
                                                                 unsigned burst) {
  std::lock_guard lock(mutex_);
  limiter_.set_rate(static_cast<double>(per_minute) / 60.0, static_cast<double>(burst));  // follows reloads
  return limiter_.take(client, RateLimiter::Clock::now());
}

namespace {

std::string printable(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

std::optional<Response> require_admin(const RequestContext& context) {
  const auto& token = context.config.admin.token;
  const auto header = context.request[beast_http::field::authorization];
  const bool allowed = !token.empty() && header.size() > 7 && header.substr(0, 7) == "Bearer " &&
                       equal_in_constant_time(header.substr(7), token);
  if (allowed) return std::nullopt;
  auto response = make_json_error(Status::unauthorized, "a valid admin bearer token is required", context.request_id);
  response.set(beast_http::field::www_authenticate, "Bearer");
  return response;
}

std::string client_address(const RequestContext& context) {
  const auto peer = context.peer.address();
  const auto& trusted = context.config.server.trusted_proxies;
  if (!any_contains(trusted, peer)) return printable(peer);
  // Each proxy appends the address it got the request from, to the last
  // line or as a line of its own; a client can put anything before that.
  // So every line counts, read right to left: the first address that is not
  // one of our proxies is the client. Anything unreadable on the way means
  // the chain cannot be followed further than the proxy that sent it.
  std::vector<std::string_view> hops;
  for (const auto& field : context.request) {
    if (!equals_ignoring_case(field.name_string(), "X-Forwarded-For")) continue;
    std::string_view line = field.value();
    while (!line.empty()) {
      const auto comma = line.find(',');
      hops.push_back(line.substr(0, comma));
      line = comma == std::string_view::npos ? std::string_view{} : line.substr(comma + 1);
    }
  }
  boost::asio::ip::address client = peer;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    auto text = *hop;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    boost::system::error_code error;
    const auto address = boost::asio::ip::make_address(std::string(text), error);
    if (error) break;
    client = address;
    if (!any_contains(trusted, address)) break;
  }
  return printable(client);
}

void register_lead_endpoints(HttpRouter& router, LeadServices& services) {
  router.add(Verb::post, "/enquire",
             [&services](RequestContext& context) { return enquire_from_any_page(context, services); });
  router.add(Verb::get, "/enquire/{id}",
             [&services](RequestContext& context) { return enquiry_status(context, services); });
  router.add(Verb::options, "/enquire",
             [](RequestContext& context) { return preflight(context, "POST", "Content-Type, Idempotency-Key"); });
  router.add(Verb::options, "/enquire/{id}",
             [](RequestContext& context) { return preflight(context, "GET", "Accept"); });
  router.add(Verb::get, "/leads/{id}",
             [&services](RequestContext& context) { return get_lead(context, services.store, services.scheduler); });
  router.add(Verb::get, "/leads", [&services](RequestContext& context) { return list_leads(context, services.store); });
}

}  // namespace callgate::http
