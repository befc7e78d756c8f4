#include "core/config_loader.hpp"

#include "core/civil_time.hpp"
#include "core/redis/redis_connection.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace callgate {
namespace {

// Where each value came from, so a cross-field error can point at the right line.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  std::string at(const YAML::Mark& mark) const {
    return file_ + ":" + std::to_string(mark.is_null() ? 1 : mark.line + 1);
  }
  void error(std::string where, std::string message) { errors_.push_back({std::move(where), std::move(message)}); }
  void remember(const std::string& key, std::string where) { origins_[key] = std::move(where); }
  // Where a key was set; a key left at its default points at the top of the file.
  std::string origin_of(const std::string& key) const {
    auto found = origins_.find(key);
    return found != origins_.end() ? found->second : file_ + ":1";
  }
  std::vector<ConfigError> take_errors() { return std::move(errors_); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::map<std::string, std::string> origins_;
};

template <class Enum>
using Choices = std::initializer_list<std::pair<std::string_view, Enum>>;

// Shared by the file's telephony.provider and the TELEPHONY_PROVIDER variable.
const Choices<ProviderName> kProviderChoices = {
    {"twilio", ProviderName::twilio}, {"exotel", ProviderName::exotel}, {"simulator", ProviderName::simulator}};

// Reads one YAML mapping. Each key read is marked as known; finish() reports
// the rest, so a misspelt key is an error instead of a silently ignored line.
class SectionReader {
 public:
  SectionReader(YAML::Node node, std::string prefix, Diagnostics& diagnostics)
      : node_(node), prefix_(std::move(prefix)), diagnostics_(diagnostics) {  // a Node is a handle: copied
    if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
      diagnostics_.error(diagnostics_.at(node_.Mark()), (prefix_.empty() ? std::string("the file") : prefix_) +
                                                            " must be a mapping of keys to values");
      node_ = YAML::Node(YAML::NodeType::Undefined);
    }
  }

  SectionReader section(const std::string& key) { return SectionReader(lookup(key), path(key), diagnostics_); }

  void text(const std::string& key, std::string& target) {
    auto value = scalar(key, "a string");
    if (value) target = *value;
  }

  void boolean(const std::string& key, bool& target) {
    auto value = scalar(key, "true or false");
    if (!value) return;
    if (*value == "true")
      target = true;
    else if (*value == "false")
      target = false;
    else
      fail(key, "expected true or false, got '" + *value + "'");
  }

  template <class Number>
  void number(const std::string& key, Number& target, Number minimum, Number maximum) {
    auto value = scalar(key, "a number");
    if (!value) return;
    Number parsed{};
    auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), parsed);
    if (error != std::errc{} || end != value->data() + value->size() || parsed < minimum || parsed > maximum) {
      fail(key, "expected a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum) +
                    ", got '" + *value + "'");
      return;
    }
    target = parsed;
  }

  void duration(const std::string& key, Milliseconds& target, Milliseconds minimum, Milliseconds maximum) {
    auto value = scalar(key, "a duration");
    if (!value) return;
    auto parsed = parse_duration(*value);
    if (!parsed || *parsed < minimum || *parsed > maximum) {
      fail(key, "expected a duration from " + format_duration(minimum) + " to " + format_duration(maximum) +
                    " with a unit (ms, s, m, h), got '" + *value + "'");
      return;
    }
    target = *parsed;
  }

  template <class Enum>
  void choice(const std::string& key, Enum& target, Choices<Enum> choices) {
    auto value = scalar(key, "one of the listed values");
    if (!value) return;
    std::string allowed;
    for (const auto& [name, option] : choices) {
      if (name == *value) {
        target = option;
        return;
      }
      allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    }
    fail(key, "expected one of " + allowed + ", got '" + *value + "'");
  }

  void listen_address(const std::string& key, ListenAddress& target) {
    auto value = scalar(key, "host:port");
    if (!value) return;
    std::string why;
    if (auto parsed = parse_listen_address(*value, &why))
      target = *parsed;
    else
      fail(key, why);
  }

  // A list of strings; each item reported by its own line when wrong.
  void text_list(const std::string& key, std::vector<std::string>& target) {
    const auto value = sequence(key, "a list of strings");
    if (!value) return;
    target.clear();
    for (std::size_t index = 0; index < value->size(); ++index) {
      const auto item = (*value)[index];
      if (!item.IsScalar()) {
        diagnostics_.error(diagnostics_.at(item.Mark()),
                           path(key) + "[" + std::to_string(index) + "]: expected a string");
        continue;
      }
      target.push_back(item.Scalar());
    }
  }

  void network_ranges(const std::string& key, std::vector<NetworkRange>& target) {
    std::vector<std::string> texts;
    text_list(key, texts);
    if (texts.empty()) return;
    target.clear();
    for (const auto& text : texts) {
      if (auto range = NetworkRange::parse(text))
        target.push_back(*range);
      else
        fail(key, "expected addresses or CIDR ranges such as 10.0.0.0/8 or 2001:db8::/32, got '" + text + "'");
    }
  }

  template <class Enum>
  void choice_list(const std::string& key, std::vector<Enum>& target, Choices<Enum> choices) {
    std::vector<std::string> texts;
    text_list(key, texts);
    target.clear();
    for (const auto& text : texts) {
      auto chosen =
          std::find_if(choices.begin(), choices.end(), [&](const auto& option) { return option.first == text; });
      if (chosen != choices.end())
        target.push_back(chosen->second);
      else
        fail(key, "unknown value '" + text + "'");
    }
  }

  // "09:00" as seconds into the day.
  void time_of_day(const std::string& key, std::int32_t& target) {
    auto value = scalar(key, "a time of day");
    if (!value) return;
    if (auto parsed = dialer::parse_time_of_day(*value))
      target = *parsed;
    else
      fail(key, "expected a time of day as HH:MM (00:00 to 24:00), got '" + *value + "'");
  }

  // An IANA zone name, read from the system's tz database now (at start-up
  // or reload), so a typo is a config error, not a surprise at dial time.
  void time_zone(const std::string& key, dialer::TimeZone& target) {
    auto value = scalar(key, "a time zone name");
    if (!value) return;
    auto loaded = dialer::load_time_zone(*value);
    if (loaded.zone)
      target = std::move(*loaded.zone);
    else
      fail(key, loaded.problem);
  }

  void durations(const std::string& key, std::vector<Milliseconds>& target, Milliseconds minimum,
                 Milliseconds maximum) {
    std::vector<std::string> texts;
    text_list(key, texts);
    if (texts.empty()) return;
    target.clear();
    for (const auto& text : texts) {
      auto parsed = parse_duration(text);
      if (parsed && *parsed >= minimum && *parsed <= maximum)
        target.push_back(*parsed);
      else
        fail(key, "expected durations from " + format_duration(minimum) + " to " + format_duration(maximum) +
                      ", got '" + text + "'");
    }
  }

  // Dates as YYYY-MM-DD.
  void dates(const std::string& key, std::vector<CivilDate>& target) {
    std::vector<std::string> texts;
    text_list(key, texts);
    target.clear();
    for (const auto& text : texts) {
      if (const auto date = parse_civil_date(text))
        target.push_back(*date);
      else
        fail(key, "expected dates as YYYY-MM-DD, got '" + text + "'");
    }
  }

  // A list of mappings, each read by its own SectionReader ("routes[0]").
  std::vector<SectionReader> items(const std::string& key) {
    std::vector<SectionReader> readers;
    const auto value = sequence(key, "a list of mappings");
    if (!value) return readers;
    for (std::size_t index = 0; index < value->size(); ++index)
      readers.emplace_back((*value)[index], path(key) + "[" + std::to_string(index) + "]", diagnostics_);
    return readers;
  }

  // A problem found after reading (a value that is fine alone but not here).
  void fail_here(const std::string& key, const std::string& message) { fail(key, message); }

  void finish() {
    if (!node_.IsMap()) return;
    std::set<std::string> seen;
    for (const auto& entry : node_) {
      const auto name = entry.first.Scalar();
      // YAML forbids repeated keys but yaml-cpp keeps both; which one wins
      // would be an accident, so neither does.
      if (!seen.insert(name).second)
        diagnostics_.error(diagnostics_.at(entry.first.Mark()), "duplicate key '" + path(name) + "'");
      else if (!known_.contains(name))
        diagnostics_.error(diagnostics_.at(entry.first.Mark()), "unknown key '" + path(name) + "'");
    }
  }

 private:
  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  YAML::Node lookup(const std::string& key) {
    known_.insert(key);
    // A search rather than operator[]: yaml-cpp's operator[] inserts missing
    // keys (or returns an invalid node that throws), and YAML::Node() is a
    // defined null, which would read as an empty value.
    if (node_.IsMap())
      for (const auto& entry : node_)
        if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
    return YAML::Node(YAML::NodeType::Undefined);
  }

  void fail(const std::string& key, const std::string& message) {
    diagnostics_.error(diagnostics_.origin_of(path(key)), path(key) + ": " + message);
  }

  // The key's value as text, or nothing when the key is absent or of the wrong kind.
  std::optional<std::string> scalar(const std::string& key, const char* expected) {
    const auto value = lookup(key);
    if (!value.IsDefined()) return std::nullopt;
    diagnostics_.remember(path(key), diagnostics_.at(value.Mark()));
    if (value.IsNull()) return std::string();
    if (!value.IsScalar()) {
      fail(key, std::string("expected ") + expected + ", got a " + (value.IsMap() ? "mapping" : "list"));
      return std::nullopt;
    }
    return value.Scalar();
  }

  std::optional<YAML::Node> sequence(const std::string& key, const char* expected) {
    const auto value = lookup(key);
    if (!value.IsDefined() || value.IsNull()) return std::nullopt;
    diagnostics_.remember(path(key), diagnostics_.at(value.Mark()));
    if (!value.IsSequence()) {
      fail(key, std::string("expected ") + expected);
      return std::nullopt;
    }
    return value;
  }

  YAML::Node node_;
  std::string prefix_;
  Diagnostics& diagnostics_;
  std::set<std::string> known_;
};

void read_file_sections(const YAML::Node& root, Config& config, Diagnostics& diagnostics) {
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
  store.choice<StoreBackend>(
      "backend", config.store.backend,
      {{"journal", StoreBackend::journal}, {"redis", StoreBackend::redis}, {"memory", StoreBackend::memory}});
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
  redis.duration("command_timeout", config.store.redis_command_timeout, Milliseconds(10), Milliseconds(60'000));
  redis.duration("orphan_wait", config.store.redis_orphan_wait, Milliseconds(1'000), Milliseconds(7 * 86'400'000));
  redis.finish();
  auto spool = store.section("spool");
  spool.text("path", config.store.spool_path);
  spool.finish();
  store.finish();

  auto telephony = top.section("telephony");
  telephony.choice<ProviderName>("provider", config.telephony.provider, kProviderChoices);
  for (auto& item : telephony.items("routes")) {
    ProviderRoute route;
    item.text("prefix", route.prefix);
    item.choice_list<ProviderName>("providers", route.providers, kProviderChoices);
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

  auto twilio = telephony.section("twilio");
  auto& t = config.telephony.twilio;
  twilio.text("account_sid", t.account_sid);
  twilio.text("auth_token", t.auth_token);
  twilio.text("auth_token_secondary", t.auth_token_secondary);
  twilio.text("phone_number", t.phone_number);
  twilio.text("call_flow_url", t.call_flow_url);
  twilio.boolean("record_calls", t.record_calls);
  twilio.text("api_base", t.api_base);
  twilio.boolean("verify_signatures", t.verify_signatures);
  twilio.number<unsigned>("ring_timeout", t.ring_timeout_seconds, 0, 600);
  twilio.number<unsigned>("time_limit", t.time_limit_seconds, 0, 14'400);
  twilio.text("machine_detection", t.machine_detection);
  twilio.number<unsigned>("calls_per_minute", t.calls_per_minute, 0, 1'000'000);
  twilio.finish();

  auto exotel = telephony.section("exotel");
  auto& e = config.telephony.exotel;
  exotel.text("account_sid", e.account_sid);
  exotel.text("api_key", e.api_key);
  exotel.text("api_token", e.api_token);
  exotel.text("exophone_number", e.exophone_number);
  exotel.text("call_flow_url", e.call_flow_url);
  exotel.text("flow_id", e.flow_id);
  exotel.text("webhook_secret", e.webhook_secret);
  exotel.choice<std::string>("region", e.region, {{"singapore", "singapore"}, {"mumbai", "mumbai"}});
  exotel.text("api_base", e.api_base);
  exotel.boolean("record_calls", e.record_calls);
  exotel.number<unsigned>("ring_timeout", e.ring_timeout_seconds, 0, 600);
  exotel.number<unsigned>("time_limit", e.time_limit_seconds, 0, 14'400);
  exotel.number<unsigned>("calls_per_minute", e.calls_per_minute, 0, 1'000'000);
  auto auth = exotel.section("webhook_auth");
  auto& a = e.webhook_auth;
  auth.text("callback_token", a.callback_token);
  auth.text("basic_username", a.basic_username);
  auth.text("basic_password", a.basic_password);
  auth.network_ranges("allowed_sources", a.allowed_sources);
  auth.boolean("allow_unauthenticated", a.allow_unauthenticated);
  auth.finish();
  exotel.finish();
  auto simulator = telephony.section("simulator");
  auto& sim = config.telephony.simulator;
  simulator.choice<SimulatorFormat>("format", sim.format,
                                    {{"twilio", SimulatorFormat::twilio}, {"exotel", SimulatorFormat::exotel}});
  simulator.text("auth_token", sim.auth_token);
  simulator.text("phone_number", sim.phone_number);
  auto outcomes = simulator.section("outcomes");
  outcomes.number<unsigned>("answered", sim.outcomes.answered, 0, 1'000'000);
  outcomes.number<unsigned>("busy", sim.outcomes.busy, 0, 1'000'000);
  outcomes.number<unsigned>("no_answer", sim.outcomes.no_answer, 0, 1'000'000);
  outcomes.number<unsigned>("failed", sim.outcomes.failed, 0, 1'000'000);
  outcomes.finish();
  auto ring_time = simulator.section("ring_time");
  ring_time.duration("min", sim.ring_min, Milliseconds(0), Milliseconds(600'000));
  ring_time.duration("max", sim.ring_max, Milliseconds(0), Milliseconds(600'000));
  ring_time.finish();
  auto talk_time = simulator.section("talk_time");
  talk_time.duration("min", sim.talk_min, Milliseconds(0), Milliseconds(14'400'000));
  talk_time.duration("max", sim.talk_max, Milliseconds(0), Milliseconds(14'400'000));
  talk_time.finish();
  simulator.number<unsigned>("speed", sim.speed, 1, 10'000);
  simulator.number<std::uint64_t>("seed", sim.seed, 0, std::numeric_limits<std::uint64_t>::max());
  simulator.boolean("shuffle_callbacks", sim.shuffle_callbacks);
  simulator.number<unsigned>("duplicate_callbacks_percent", sim.duplicate_callbacks_percent, 0, 100);
  simulator.text("gather_digits", sim.gather_digits);
  simulator.finish();
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

  auto intake = top.section("intake");
  auto& i = config.intake;
  intake.text("default_country_code", i.default_country_code);
  intake.text("consent_text_version", i.consent_text_version);
  intake.text("consent_text", i.consent_text);
  intake.duration("duplicate_window", i.duplicate_window, Milliseconds(0), Milliseconds(7 * 86'400'000LL));
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

void apply_environment(const EnvironmentLookup& environment, Config& config, Diagnostics& diagnostics) {
  auto& t = config.telephony.twilio;
  auto& e = config.telephony.exotel;
  const std::pair<std::string_view, std::pair<const char*, std::string*>> text_bindings[] = {
      {"TWILIO_ACCOUNT_SID", {"telephony.twilio.account_sid", &t.account_sid}},
      {"TWILIO_AUTH_TOKEN", {"telephony.twilio.auth_token", &t.auth_token}},
      {"TWILIO_AUTH_TOKEN_SECONDARY", {"telephony.twilio.auth_token_secondary", &t.auth_token_secondary}},
      {"TWILIO_PHONE_NUMBER", {"telephony.twilio.phone_number", &t.phone_number}},
      {"TWILIO_CALL_FLOW_URL", {"telephony.twilio.call_flow_url", &t.call_flow_url}},
      {"EXOTEL_ACCOUNT_SID", {"telephony.exotel.account_sid", &e.account_sid}},
      {"EXOTEL_API_KEY", {"telephony.exotel.api_key", &e.api_key}},
      {"EXOTEL_API_TOKEN", {"telephony.exotel.api_token", &e.api_token}},
      {"EXOTEL_EXOPHONE_NUMBER", {"telephony.exotel.exophone_number", &e.exophone_number}},
      {"EXOTEL_CALL_FLOW_URL", {"telephony.exotel.call_flow_url", &e.call_flow_url}},
      {"EXOTEL_FLOW_ID", {"telephony.exotel.flow_id", &e.flow_id}},
      {"EXOTEL_WEBHOOK_SECRET", {"telephony.exotel.webhook_secret", &e.webhook_secret}},
  };
  for (const auto& [variable, binding] : text_bindings) {
    if (auto value = environment(variable)) {
      *binding.second = *value;
      diagnostics.remember(binding.first, "environment " + std::string(variable));
    }
  }

  if (auto value = environment("TELEPHONY_PROVIDER")) {
    diagnostics.remember("telephony.provider", "environment TELEPHONY_PROVIDER");
    const auto chosen = std::find_if(kProviderChoices.begin(), kProviderChoices.end(),
                                     [&](const auto& choice) { return choice.first == *value; });
    if (chosen != kProviderChoices.end())
      config.telephony.provider = chosen->second;
    else
      diagnostics.error("environment TELEPHONY_PROVIDER",
                        "expected one of twilio, exotel, simulator, got '" + *value + "'");
  }
  if (auto value = environment("TWILIO_RECORD_CALLS")) {
    diagnostics.remember("telephony.twilio.record_calls", "environment TWILIO_RECORD_CALLS");
    if (*value == "true" || *value == "1")
      t.record_calls = true;
    else if (*value == "false" || *value == "0")
      t.record_calls = false;
    else
      diagnostics.error("environment TWILIO_RECORD_CALLS", "expected true or false, got '" + *value + "'");
  }
}

bool is_http_url(const std::string& text, bool allow_path) {
  auto url = boost::urls::parse_absolute_uri(text);
  if (!url) return false;
  if (url->scheme() != "http" && url->scheme() != "https") return false;
  if (url->host().empty() || url->has_query() || url->has_fragment() || url->has_userinfo()) return false;
  return allow_path || url->path().empty() || url->path() == "/";
}

bool has_hex_tail(std::string_view text, std::string_view prefix, std::size_t hex_digits) {
  if (text.size() != prefix.size() + hex_digits || !text.starts_with(prefix)) return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Rules that involve more than one key, or a value's shape beyond its type.
void validate(Config& config, Diagnostics& diagnostics) {
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
  if (store.backend == StoreBackend::redis)
    check(redis::parse_redis_url(store.redis_url).has_value(), "store.redis.url",
          "expected redis://[:password@]host[:port][/db] with a port of 1-65535 and a db number");

  const auto& twilio = config.telephony.twilio;
  check(is_http_url(twilio.api_base, false), "telephony.twilio.api_base", "expected an http(s) URL with no path");
  check(twilio.account_sid.empty() || has_hex_tail(twilio.account_sid, "AC", 32), "telephony.twilio.account_sid",
        "a Twilio Account SID is AC followed by 32 hexadecimal digits");
  check(twilio.call_flow_url.empty() || is_http_url(twilio.call_flow_url, true), "telephony.twilio.call_flow_url",
        "expected an absolute http(s) URL");
  check(twilio.machine_detection.empty() || twilio.machine_detection == "Enable" ||
            twilio.machine_detection == "DetectMessageEnd",
        "telephony.twilio.machine_detection", "expected Enable, DetectMessageEnd or nothing");
  auto& exotel = config.telephony.exotel;
  if (exotel.api_base.empty())
    exotel.api_base = exotel.region == "mumbai" ? "https://api.in.exotel.com" : "https://api.exotel.com";
  while (exotel.api_base.size() > 1 && exotel.api_base.back() == '/') exotel.api_base.pop_back();
  check(is_http_url(exotel.api_base, false), "telephony.exotel.api_base", "expected an http(s) URL with no path");
  check(exotel.call_flow_url.empty() || is_http_url(exotel.call_flow_url, true), "telephony.exotel.call_flow_url",
        "expected an absolute http(s) URL");
  const auto& auth = exotel.webhook_auth;
  check(auth.basic_username.find_first_of(":@/") == std::string::npos, "telephony.exotel.webhook_auth.basic_username",
        "must not contain ':', '@' or '/'");
  check(auth.basic_username.empty() == auth.basic_password.empty(), "telephony.exotel.webhook_auth.basic_password",
        "basic_username and basic_password go together");

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
  if (flow.next == CallFlowStep::stream) {
    auto url = boost::urls::parse_absolute_uri(flow.stream_url);
    check(url && url->scheme() == "wss" && !url->host().empty() && !url->has_query(), "call_flow.stream.url",
          "expected a wss:// URL without a query (values travel as <Parameter>), got '" + flow.stream_url + "'");
  }

  auto in_use = [&](ProviderName name) { return provider_in_use(config.telephony, name); };
  if (in_use(ProviderName::exotel)) {
    const bool any_check = !exotel.webhook_secret.empty() || !auth.callback_token.empty() ||
                           !auth.basic_username.empty() || !auth.allowed_sources.empty();
    if (!any_check && !auth.allow_unauthenticated)
      diagnostics.error(diagnostics.origin_of("telephony.provider"),
                        "Exotel signs nothing: set at least one of telephony.exotel.webhook_secret, "
                        "webhook_auth.callback_token, webhook_auth.basic_username or webhook_auth.allowed_sources "
                        "(or webhook_auth.allow_unauthenticated for development)");
  }

  const auto& simulator = config.telephony.simulator;
  check(simulator.ring_min <= simulator.ring_max, "telephony.simulator.ring_time.max",
        "expected at least ring_time.min");
  check(simulator.talk_min <= simulator.talk_max, "telephony.simulator.talk_time.max",
        "expected at least talk_time.min");
  check(simulator.gather_digits.find_first_not_of("0123456789*#") == std::string::npos,
        "telephony.simulator.gather_digits", "expected keys a phone has (0-9, * and #)");
  if (in_use(ProviderName::simulator)) {
    const auto& weights = simulator.outcomes;
    check(weights.answered + weights.busy + weights.no_answer + weights.failed > 0, "telephony.simulator.outcomes",
          "expected at least one outcome with a weight above 0");
  }

  if (in_use(ProviderName::twilio)) {
    for (auto [key, value] : {std::pair{"telephony.twilio.account_sid", &twilio.account_sid},
                              std::pair{"telephony.twilio.auth_token", &twilio.auth_token},
                              std::pair{"telephony.twilio.phone_number", &twilio.phone_number}})
      if (value->empty())
        diagnostics.error(diagnostics.origin_of("telephony.provider"),
                          std::string(key) + " is required when Twilio places calls");
  }
  if (in_use(ProviderName::exotel)) {
    for (auto [key, value] : {std::pair{"telephony.exotel.account_sid", &exotel.account_sid},
                              std::pair{"telephony.exotel.api_key", &exotel.api_key},
                              std::pair{"telephony.exotel.api_token", &exotel.api_token},
                              std::pair{"telephony.exotel.exophone_number", &exotel.exophone_number}})
      if (value->empty())
        diagnostics.error(diagnostics.origin_of("telephony.provider"),
                          std::string(key) + " is required when Exotel places calls");
  }
}

}  // namespace

const std::vector<std::string_view>& seed_environment_variables() {
  static const std::vector<std::string_view> names = {
      "TELEPHONY_PROVIDER",   "TWILIO_ACCOUNT_SID",     "TWILIO_AUTH_TOKEN",    "TWILIO_PHONE_NUMBER",
      "TWILIO_CALL_FLOW_URL", "TWILIO_RECORD_CALLS",    "EXOTEL_ACCOUNT_SID",   "EXOTEL_API_KEY",
      "EXOTEL_API_TOKEN",     "EXOTEL_EXOPHONE_NUMBER", "EXOTEL_CALL_FLOW_URL", "EXOTEL_FLOW_ID",
      "EXOTEL_WEBHOOK_SECRET"};
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
                                  const EnvironmentLookup& environment) {
  ConfigLoadResult result;
  Diagnostics diagnostics{std::string(file_name)};
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    read_file_sections(root, result.config, diagnostics);
  } catch (const YAML::Exception& error) {
    diagnostics.error(diagnostics.at(error.mark), "YAML syntax: " + error.msg);
    result.errors = diagnostics.take_errors();
    return result;
  }
  apply_environment(environment, result.config, diagnostics);
  validate(result.config, diagnostics);
  result.errors = diagnostics.take_errors();
  return result;
}

ConfigLoadResult load_config_file(const std::string& path, const EnvironmentLookup& environment) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ConfigLoadResult result;
    result.errors.push_back({path, "cannot read the config file"});
    return result;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return load_config_text(text.str(), path, environment);
}

}  // namespace callgate
