#include "core/config_loader.hpp"

#include "core/config_reader.hpp"
#include "core/events/lead_events.hpp"
#include "core/events/standard_webhooks.hpp"
#include "core/redis/redis_connection.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace callgate {
namespace {

// The names a route or telephony.provider may use, as the errors list them.
std::string provider_names(ProviderSections sections) {
  std::string names;
  for (const auto* section : sections) names += (names.empty() ? "" : ", ") + std::string(section->name().text());
  return names;
}

const ProviderConfigSection* section_named(ProviderSections sections, std::string_view name) {
  for (const auto* section : sections)
    if (section->name().text() == name) return section;
  return nullptr;
}

void read_file_sections(const YAML::Node& root, Config& config, ProviderSections sections,
                        ConfigDiagnostics& diagnostics) {
  SectionReader top(root, "", diagnostics);

  auto server = top.section("server");
  auto& s = config.server;
  server.listen_address("listen", s.listen);
  server.number<unsigned>("threads", s.threads, 0, 256);
  server.text("public_base_url", s.public_base_url);
  server.number<std::size_t>("max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
  server.number<std::size_t>("max_body_bytes", s.max_body_bytes, 1024, 64 * 1024 * 1024);
  server.number<unsigned>("max_connections", s.max_connections, 1, 1'000'000);
  server.number<unsigned>("max_connections_per_address", s.max_connections_per_address, 0, 1'000'000);
  server.boolean("reuse_port", s.reuse_port);
  server.duration("read_timeout", s.read_timeout, Milliseconds(100), Milliseconds(600'000));
  server.duration("idle_timeout", s.idle_timeout, Milliseconds(100), Milliseconds(3'600'000));
  server.duration("write_timeout", s.write_timeout, Milliseconds(100), Milliseconds(600'000));
  server.duration("drain_timeout", s.drain_timeout, Milliseconds(0), Milliseconds(600'000));
  server.network_ranges("trusted_proxies", s.trusted_proxies);
  server.finish();

  auto log = top.section("log");
  log.choice<LogLevel>(
      "level", config.log.level,
      {{"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn}, {"error", LogLevel::error}});
  log.boolean("access_log", config.log.access_log);
  log.finish();

  auto admin = top.section("admin");
  admin.text("token", config.admin.token);
  admin.finish();

  auto store = top.section("store");
  store.choice<StoreBackend>("backend", config.store.backend,
                             {{"journal", StoreBackend::journal},
                              {"redis", StoreBackend::redis},
                              {"memory", StoreBackend::memory},
                              {"dynamodb", StoreBackend::dynamodb}});
  auto journal = store.section("journal");
  journal.text("path", config.store.journal_path);
  journal.number<std::uint64_t>("compact_bytes", config.store.journal_compact_bytes, 64 * 1024, std::uint64_t{1} << 40);
  journal.number<std::uint64_t>("orphans_in_memory", config.store.journal_orphans_in_memory, 1, 100'000'000);
  journal.number<std::uint64_t>("orphan_memory_bytes", config.store.journal_orphan_memory_bytes, 1024 * 1024,
                                64ull * 1024 * 1024 * 1024);
  journal.duration("orphan_wait", config.store.journal_orphan_wait, Milliseconds(1'000), Milliseconds(7 * 86'400'000));
  journal.number<unsigned>("max_syncs_per_second", config.store.journal_max_syncs_per_second, 0, 1'000'000);
  journal.finish();
  auto redis = store.section("redis");
  redis.text("url", config.store.redis_url);
  redis.text("key_prefix", config.store.redis_key_prefix);
  redis.text("ca_file", config.store.redis_ca_file);
  redis.text("cert_file", config.store.redis_cert_file);
  redis.text("key_file", config.store.redis_key_file);
  redis.duration("command_timeout", config.store.redis_command_timeout, Milliseconds(10), Milliseconds(60'000));
  redis.duration("orphan_wait", config.store.redis_orphan_wait, Milliseconds(1'000), Milliseconds(7 * 86'400'000));
  redis.finish();
  auto dynamodb = store.section("dynamodb");
  dynamodb.text("region", config.store.dynamodb_region);
  dynamodb.text("table", config.store.dynamodb_table);
  dynamodb.text("endpoint", config.store.dynamodb_endpoint);
  dynamodb.boolean("create_table", config.store.dynamodb_create_table);
  dynamodb.duration("operation_timeout", config.store.dynamodb_operation_timeout, Milliseconds(100),
                    Milliseconds(60'000));
  dynamodb.duration("orphan_wait", config.store.dynamodb_orphan_wait, Milliseconds(1'000),
                    Milliseconds(7 * 86'400'000));
  dynamodb.finish();
  auto spool = store.section("spool");
  spool.text("path", config.store.spool_path);
  spool.finish();
  store.finish();

  auto telephony = top.section("telephony");
  std::string provider_text(config.telephony.provider.text());
  telephony.text("provider", provider_text);
  if (section_named(sections, provider_text) != nullptr)
    config.telephony.provider = ProviderName(provider_text);
  else
    telephony.fail_here("provider", "expected one of " + provider_names(sections) + ", got '" + provider_text + "'");
  for (auto& item : telephony.items("routes")) {
    ProviderRoute route;
    item.text("prefix", route.prefix);
    std::vector<std::string> names;
    item.text_list("providers", names);
    for (const auto& name : names) {
      if (section_named(sections, name) != nullptr)
        route.providers.emplace_back(name);
      else
        item.fail_here("providers", "unknown value '" + name + "'");
    }
    item.finish();
    config.telephony.routes.push_back(std::move(route));
  }
  auto client = telephony.section("http_client");
  auto& c = config.telephony.http_client;
  client.duration("connect_timeout", c.connect_timeout, Milliseconds(100), Milliseconds(60'000));
  client.duration("request_timeout", c.request_timeout, Milliseconds(100), Milliseconds(120'000));
  client.duration("total_timeout", c.total_timeout, Milliseconds(100), Milliseconds(300'000));
  client.duration("idle_timeout", c.idle_timeout, Milliseconds(0), Milliseconds(600'000));
  client.duration("dns_cache_ttl", c.dns_cache_ttl, Milliseconds(0), Milliseconds(3'600'000));
  client.number<unsigned>("max_connections_per_host", c.max_connections_per_host, 1, 1024);
  client.number<unsigned>("warm_connections", c.warm_connections, 0, 1024);
  client.number<std::size_t>("max_response_bytes", c.max_response_bytes, 1024, 64 * 1024 * 1024);
  client.text("ca_file", c.ca_file);
  client.finish();

  // Each provider reads its own section, telephony.<name>.
  for (const auto* section : sections) {
    auto [entry, added] = config.telephony.sections.try_emplace(section->name(), section->defaults());
    auto reader = telephony.section(std::string(section->name().text()));
    section->read(reader, entry->second);
    reader.finish();
  }
  telephony.finish();

  auto flow = top.section("call_flow");
  auto& f = config.call_flow;
  auto greeting = flow.section("greeting");
  greeting.text("say", f.greeting_say);
  greeting.text("play", f.greeting_play);
  greeting.text("voice", f.voice);
  greeting.text("language", f.language);
  greeting.finish();
  flow.choice<CallFlowStep>(
      "next", f.next,
      {{"gather", CallFlowStep::gather}, {"stream", CallFlowStep::stream}, {"hangup", CallFlowStep::hangup}});
  auto gather = flow.section("gather");
  gather.text("prompt", f.gather_prompt);
  gather.number<unsigned>("timeout", f.gather_timeout_seconds, 1, 60);
  gather.number<unsigned>("num_digits", f.gather_num_digits, 0, 32);
  gather.text("hints", f.gather_hints);
  gather.text("reply", f.gather_reply);
  gather.finish();
  auto stream = flow.section("stream");
  stream.text("url", f.stream_url);
  stream.finish();
  flow.finish();

  auto voice = top.section("voice");
  auto& v = config.voice;
  auto agent = voice.section("agent");
  agent.text("url", v.agent_url);
  agent.duration("connect_timeout", v.agent_connect_timeout, Milliseconds(100), Milliseconds(60'000));
  agent.duration("stall_timeout", v.agent_stall_timeout, Milliseconds(100), Milliseconds(60'000));
  agent.finish();
  voice.duration("start_timeout", v.start_timeout, Milliseconds(100), Milliseconds(60'000));
  voice.duration("token_ttl", v.token_ttl, Milliseconds(10'000), Milliseconds(86'400'000));
  voice.text("stream_secret", v.stream_secret);
  voice.number<std::size_t>("queue_frames", v.queue_frames, 10, 100'000);
  voice.number<unsigned>("max_streams", v.max_streams, 1, 1'000'000);
  voice.boolean("record", v.record);
  voice.choice<RecordingFormat>("recording_format", v.recording_format,
                                {{"pcm16", RecordingFormat::pcm16}, {"mulaw", RecordingFormat::mulaw}});
  voice.text("recordings_path", v.recordings_path);
  voice.duration("recording_retention", v.recording_retention, Milliseconds(0), Milliseconds(3650LL * 86'400'000));
  voice.boolean("fetch_provider_recordings", v.fetch_provider_recordings);
  voice.text("consent_notice", v.consent_notice);
  voice.text("fallback_say", v.fallback_say);
  auto exotel_stream = voice.section("exotel");
  exotel_stream.text("username", v.exotel_username);
  exotel_stream.text("password", v.exotel_password);
  exotel_stream.network_ranges("allowed_networks", v.exotel_networks);
  exotel_stream.finish();
  voice.finish();

  auto events = top.section("events");
  auto& e = config.events;
  for (auto& item : events.items("endpoints")) {
    EventEndpointConfig endpoint;
    item.text("name", endpoint.name);
    item.text("url", endpoint.url);
    item.text("secret", endpoint.secret);
    item.text_list("types", endpoint.types);
    item.finish();
    // The URL less its query, which may carry the receiver's token: a name
    // appears in logs, metrics and the journal.
    if (endpoint.name.empty()) endpoint.name = endpoint.url.substr(0, endpoint.url.find_first_of("?#"));
    e.endpoints.push_back(std::move(endpoint));
  }
  auto event_retry = events.section("retry");
  event_retry.duration("first", e.retry_first, Milliseconds(100), Milliseconds(3'600'000));
  event_retry.duration("longest", e.retry_longest, Milliseconds(1'000), Milliseconds(86'400'000));
  event_retry.finish();
  events.duration("give_up_after", e.give_up_after, Milliseconds(60'000), Milliseconds(30LL * 86'400'000));
  events.duration("timeout", e.timeout, Milliseconds(100), Milliseconds(120'000));
  events.number<unsigned>("concurrency", e.concurrency, 1, 256);
  events.finish();

  auto intake = top.section("intake");
  auto& i = config.intake;
  intake.text("default_country_code", i.default_country_code);
  intake.text("consent_text_version", i.consent_text_version);
  intake.text("consent_text", i.consent_text);
  intake.duration("duplicate_window", i.duplicate_window, Milliseconds(0), Milliseconds(7 * 86'400'000LL));
  intake.choice<RepeatWhenDone>("repeat_when_done", i.repeat_when_done,
                                {{"call_again", RepeatWhenDone::call_again}, {"same_lead", RepeatWhenDone::same_lead}});
  intake.choice<UnknownFields>("unknown_fields", i.unknown_fields,
                               {{"ignore", UnknownFields::ignore}, {"reject", UnknownFields::reject}});
  intake.number<std::size_t>("max_name_length", i.max_name_length, 1, 10'000);
  intake.number<std::size_t>("max_source_length", i.max_source_length, 1, 10'000);
  intake.number<std::size_t>("max_metadata_bytes", i.max_metadata_bytes, 0, 1024 * 1024);
  intake.number<unsigned>("rate_burst", i.rate_burst, 1, 1'000'000);
  intake.number<unsigned>("rate_per_minute", i.rate_per_minute, 1, 1'000'000);
  intake.number<unsigned>("status_rate_per_minute", i.status_rate_per_minute, 1, 1'000'000);
  intake.number<unsigned>("status_rate_burst", i.status_rate_burst, 1, 1'000'000);
  intake.text_list("cors_allowed_origins", i.cors_allowed_origins);
  intake.finish();

  auto dialer_section = top.section("dialer");
  auto& d = config.dialer;
  dialer_section.text("path", d.path);
  dialer_section.duration("lease", d.lease, Milliseconds(5'000), Milliseconds(3'600'000));
  dialer_section.duration("unscheduled_lead_sweep", d.unscheduled_lead_sweep, Milliseconds(1'000),
                          Milliseconds(3'600'000));
  dialer_section.number<int>("max_calls_per_number_per_day", d.max_calls_per_number_per_day, 0, 1'000);
  auto retry = dialer_section.section("retry");
  retry.duration("base", d.retry.base, Milliseconds(10), Milliseconds(3'600'000));
  retry.duration("cap", d.retry.cap, Milliseconds(10), Milliseconds(86'400'000));
  retry.number<int>("max_tries", d.retry.max_tries, 1, 100);
  retry.finish();
  auto redial = dialer_section.section("redial");
  redial.durations("delays", d.redial.delays, Milliseconds(1'000), Milliseconds(30LL * 86'400'000));
  redial.number<int>("max_calls", d.redial.max_calls, 1, 50);
  redial.boolean("redial_machines", d.redial.redial_machines);
  redial.finish();
  auto breaker = dialer_section.section("breaker");
  breaker.number<int>("failures_to_open", d.breaker.failures_to_open, 1, 1'000);
  breaker.duration("open_for", d.breaker.open_for, Milliseconds(100), Milliseconds(3'600'000));
  breaker.finish();
  auto ambiguous = dialer_section.section("ambiguous");
  ambiguous.duration("grace", d.ambiguous.grace, Milliseconds(1'000), Milliseconds(3'600'000));
  ambiguous.duration("recheck_cap", d.ambiguous.recheck_cap, Milliseconds(1'000), Milliseconds(86'400'000));
  ambiguous.number<int>("max_failed_lookups", d.ambiguous.max_failed_lookups, 1, 1'000);
  ambiguous.finish();
  auto hours = dialer_section.section("calling_hours");
  const Choices<unsigned> weekdays = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                      {"thu", 4}, {"fri", 5}, {"sat", 6}};
  auto read_window = [&](SectionReader& reader, dialer::CallingWindow& window) {
    reader.time_zone("time_zone", window.zone);
    reader.time_of_day("opens", window.opens);
    reader.time_of_day("closes", window.closes);
    std::vector<unsigned> days;
    reader.choice_list<unsigned>("days", days, weekdays);
    if (!days.empty()) {
      window.days = {};
      for (const auto day : days) window.days[day] = true;
    }
    reader.dates("holidays", window.holidays);
  };
  read_window(hours, d.calling_hours.default_window);
  d.calling_hours.by_prefix.clear();
  for (auto& item : hours.items("by_prefix")) {
    std::pair<std::string, dialer::CallingWindow> entry{"", d.calling_hours.default_window};
    item.text("prefix", entry.first);
    read_window(item, entry.second);
    item.finish();
    if (!entry.first.starts_with("+")) item.fail_here("prefix", "expected an E.164 prefix such as +91");
    d.calling_hours.by_prefix.push_back(std::move(entry));
  }
  hours.finish();
  dialer_section.finish();

  top.finish();
}

void apply_environment(const EnvironmentLookup& environment, Config& config, ProviderSections sections,
                       ConfigDiagnostics& diagnostics) {
  if (auto value = environment("TELEPHONY_PROVIDER")) {
    diagnostics.remember("telephony.provider", "environment TELEPHONY_PROVIDER");
    if (section_named(sections, *value) != nullptr)
      config.telephony.provider = ProviderName(*value);
    else
      diagnostics.error("environment TELEPHONY_PROVIDER",
                        "expected one of " + provider_names(sections) + ", got '" + *value + "'");
  }
  for (const auto* section : sections)
    section->apply_environment(environment, config.telephony.sections.at(section->name()), diagnostics);
  // The AWS SDKs' variable, for the region only when the file names none.
  if (config.store.dynamodb_region.empty())
    if (auto value = environment("AWS_REGION")) {
      diagnostics.remember("store.dynamodb.region", "environment AWS_REGION");
      config.store.dynamodb_region = *value;
    }
}

// Rules that involve more than one key, or a value's shape beyond its type.
void validate(Config& config, ProviderSections sections, ConfigDiagnostics& diagnostics) {
  auto check = [&](bool ok, const std::string& key, const std::string& message) {
    if (!ok) diagnostics.error(diagnostics.origin_of(key), key + ": " + message);
  };

  auto& base = config.server.public_base_url;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  check(is_http_url(base, true), "server.public_base_url",
        "expected an absolute http:// or https:// URL without query or fragment, got '" + base + "'");

  const auto& store = config.store;
  if (store.backend == StoreBackend::journal)
    check(!store.journal_path.empty(), "store.journal.path", "must not be empty with the journal backend");
  // The same parser the store connects with; the URL is not echoed, it may hold a password.
  if (store.backend == StoreBackend::redis) {
    const auto redis_url = redis::parse_redis_url(store.redis_url);
    check(redis_url.has_value(), "store.redis.url",
          "expected redis[s]://[[user]:password@]host[:port][/db] with a port of 1-65535 and a db number "
          "(an ACL user needs its password)");
    const bool tls = redis_url && redis_url->tls;
    for (const auto& [key, file] : {std::pair<std::string, std::string>{"store.redis.ca_file", store.redis_ca_file},
                                    {"store.redis.cert_file", store.redis_cert_file},
                                    {"store.redis.key_file", store.redis_key_file}}) {
      if (file.empty()) continue;
      check(tls, key, "is used with a rediss:// URL only (TLS); the URL is redis://");
      check(static_cast<bool>(std::ifstream(file)), key, "cannot read '" + file + "'");
    }
    check(store.redis_cert_file.empty() == store.redis_key_file.empty(), "store.redis.cert_file",
          "set both store.redis.cert_file and store.redis.key_file, or neither");
  }

  if (store.backend == StoreBackend::dynamodb) {
    check(is_aws_region(store.dynamodb_region), "store.dynamodb.region",
          store.dynamodb_region.empty() ? "set it, or AWS_REGION, with the dynamodb backend"
                                        : "expected a region such as ap-south-1, got '" + store.dynamodb_region + "'");
    check(is_dynamodb_table_name(store.dynamodb_table), "store.dynamodb.table",
          "expected 3-255 letters, digits, '_', '-' or '.', got '" + store.dynamodb_table + "'");
    check(store.dynamodb_endpoint.empty() || is_https_or_loopback_url(store.dynamodb_endpoint),
          "store.dynamodb.endpoint",
          "expected https://..., or http:// to a loopback address only (DynamoDB Local), got '" +
              store.dynamodb_endpoint + "'");
  }

  const auto& client = config.telephony.http_client;
  if (!client.ca_file.empty()) {
    std::ifstream ca(client.ca_file);
    check(static_cast<bool>(ca), "telephony.http_client.ca_file", "cannot read '" + client.ca_file + "'");
  }

  check(client.warm_connections <= client.max_connections_per_host, "telephony.http_client.warm_connections",
        "must not exceed max_connections_per_host (" + std::to_string(client.max_connections_per_host) + ")");

  for (std::size_t index = 0; index < config.telephony.routes.size(); ++index) {
    const auto& route = config.telephony.routes[index];
    const auto key = "telephony.routes[" + std::to_string(index) + "]";
    check(
        route.prefix.starts_with('+') && route.prefix.size() <= 16 &&
            std::all_of(route.prefix.begin() + 1, route.prefix.end(), [](unsigned char c) { return std::isdigit(c); }),
        key + ".prefix", "expected '+' and up to 15 digits, got '" + route.prefix + "'");
    check(!route.providers.empty(), key + ".providers", "needs at least one provider");
  }

  const auto& intake = config.intake;
  check(config.dialer.retry.base <= config.dialer.retry.cap, "dialer.retry.base",
        "must not be longer than dialer.retry.cap");
  check(!intake.default_country_code.empty() && intake.default_country_code.size() <= 3 &&
            std::all_of(intake.default_country_code.begin(), intake.default_country_code.end(),
                        [](unsigned char c) { return std::isdigit(c); }) &&
            intake.default_country_code[0] != '0',
        "intake.default_country_code", "expected 1 to 3 digits without '+', such as 91 or 1");
  for (const auto& origin : intake.cors_allowed_origins) {
    auto url = boost::urls::parse_absolute_uri(origin);
    check(url && (url->scheme() == "https" || url->scheme() == "http") && url->path().empty() && !url->has_query(),
          "intake.cors_allowed_origins", "expected origins such as https://www.example.com, got '" + origin + "'");
  }

  const auto& flow = config.call_flow;
  check(flow.greeting_play.empty() || is_http_url(flow.greeting_play, true), "call_flow.greeting.play",
        "expected an absolute http(s) URL of an audio file");
  if (!flow.stream_url.empty()) {
    auto url = boost::urls::parse_absolute_uri(flow.stream_url);
    check(url && url->scheme() == "wss" && !url->host().empty() && !url->has_query(), "call_flow.stream.url",
          "expected a wss:// URL without a query (values travel as <Parameter>), got '" + flow.stream_url + "'");
  }
  const auto& voice = config.voice;
  if (!voice.agent_url.empty()) {
    auto url = boost::urls::parse_absolute_uri(voice.agent_url);
    check(url && (url->scheme() == "ws" || url->scheme() == "wss") && !url->host().empty() && !url->has_userinfo(),
          "voice.agent.url", "expected a ws:// or wss:// URL without credentials, got '" + voice.agent_url + "'");
  }
  if (flow.next == CallFlowStep::stream && flow.stream_url.empty())
    check(!voice.agent_url.empty(), "call_flow.next",
          "stream needs voice.agent.url (callgate bridges the call to the agent) or call_flow.stream.url (the "
          "provider connects to the agent itself)");
  if (voice.record)
    check(!voice.recordings_path.empty(), "voice.recordings_path", "must not be empty with voice.record on");
  check(voice.exotel_username.empty() == voice.exotel_password.empty(), "voice.exotel.username",
        "set both voice.exotel.username and voice.exotel.password, or neither");

  const auto& events = config.events;
  for (std::size_t index = 0; index < events.endpoints.size(); ++index) {
    const auto& endpoint = events.endpoints[index];
    const auto key = "events.endpoints[" + std::to_string(index) + "]";
    check(is_event_endpoint_url(endpoint.url), key + ".url",
          "expected an https:// URL (or http:// to a loopback address), without credentials or a fragment, got '" +
              endpoint.url + "'");
    check(events::webhook_secret_key(endpoint.secret).has_value(), key + ".secret",
          "expected whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)");
    for (const auto& type : endpoint.types) {
      const auto& known = events::lead_event_types();
      check(std::find(known.begin(), known.end(), type) != known.end(), key + ".types",
            "unknown event type '" + type + "'");
    }
    for (std::size_t other = 0; other < index; ++other)
      check(events.endpoints[other].name != endpoint.name, key + ".name",
            "two endpoints are named '" + endpoint.name + "'");
  }
  check(events.retry_first <= events.retry_longest, "events.retry.first",
        "must not be longer than events.retry.longest");
  if (!events.endpoints.empty())
    check(config.store.backend == StoreBackend::journal || config.store.backend == StoreBackend::memory,
          "events.endpoints",
          "lead events are kept with the journal store (or memory, for tests) in this version; store.backend is " +
              std::string(to_string(config.store.backend)));

  for (const auto* section : sections)
    section->validate(config.telephony.sections.at(section->name()), provider_in_use(config.telephony, section->name()),
                      diagnostics);
}

}  // namespace

std::vector<std::string_view> seed_environment_variables(ProviderSections sections) {
  std::vector<std::string_view> names = {"TELEPHONY_PROVIDER"};
  for (const auto* section : sections)
    for (auto name : section->environment_variables()) names.push_back(name);
  return names;
}

EnvironmentLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

EnvironmentLookup no_environment() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

ConfigLoadResult load_config_text(std::string_view yaml_text, std::string_view file_name,
                                  const EnvironmentLookup& environment, ProviderSections sections) {
  ConfigLoadResult result;
  ConfigDiagnostics diagnostics{std::string(file_name)};
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    read_file_sections(root, result.config, sections, diagnostics);
  } catch (const YAML::Exception& error) {
    diagnostics.error(diagnostics.at(error.mark), "YAML syntax: " + error.msg);
    result.errors = diagnostics.take_errors();
    return result;
  }
  apply_environment(environment, result.config, sections, diagnostics);
  validate(result.config, sections, diagnostics);
  result.errors = diagnostics.take_errors();
  return result;
}

ConfigLoadResult load_config_file(const std::string& path, const EnvironmentLookup& environment,
                                  ProviderSections sections) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ConfigLoadResult result;
    result.errors.push_back({path, "cannot read the config file"});
    return result;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return load_config_text(text.str(), path, environment, sections);
}

}  // namespace callgate
