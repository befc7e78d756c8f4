#include "core/config.hpp"

#include <algorithm>
#include <map>

namespace callgate {

std::string_view to_string(StoreBackend backend) {
  switch (backend) {
    case StoreBackend::journal:
      return "journal";
    case StoreBackend::redis:
      return "redis";
    case StoreBackend::memory:
      return "memory";
    case StoreBackend::dynamodb:
      return "dynamodb";
  }
  return "?";
}

bool provider_in_use(const TelephonyConfig& telephony, const ProviderName& provider) {
  if (telephony.provider == provider) return true;
  for (const auto& route : telephony.routes)
    if (std::find(route.providers.begin(), route.providers.end(), provider) != route.providers.end()) return true;
  return false;
}

std::string_view to_string(CallFlowStep step) {
  switch (step) {
    case CallFlowStep::gather:
      return "gather";
    case CallFlowStep::stream:
      return "stream";
    case CallFlowStep::hangup:
      return "hangup";
  }
  return "?";
}

namespace {

bool same_window(const dialer::CallingWindow& a, const dialer::CallingWindow& b) {
  return a.zone.name() == b.zone.name() && a.opens == b.opens && a.closes == b.closes && a.days == b.days &&
         a.holidays == b.holidays;
}

bool same_dialer_policies(const DialerConfig& a, const DialerConfig& b) {
  const auto& ha = a.calling_hours;
  const auto& hb = b.calling_hours;
  bool same_hours = same_window(ha.default_window, hb.default_window) && ha.by_prefix.size() == hb.by_prefix.size();
  for (std::size_t index = 0; same_hours && index < ha.by_prefix.size(); ++index)
    same_hours = ha.by_prefix[index].first == hb.by_prefix[index].first &&
                 same_window(ha.by_prefix[index].second, hb.by_prefix[index].second);
  return same_hours && a.max_calls_per_number_per_day == b.max_calls_per_number_per_day && a.lease == b.lease &&
         a.retry == b.retry && a.redial == b.redial && a.breaker == b.breaker && a.ambiguous == b.ambiguous &&
         a.unscheduled_lead_sweep == b.unscheduled_lead_sweep;
}

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& reloaded) {
  ReloadPlan plan;
  auto live = [&](const char* key, bool changed) {
    if (changed) plan.applied.emplace_back(key);
  };
  auto fixed = [&](const char* key, bool changed) {
    if (changed) plan.needs_restart.emplace_back(key);
  };
  const auto& a = running;
  const auto& b = reloaded;

  // Sockets, threads and the store are built once at start-up.
  fixed("server.listen", a.server.listen.to_string() != b.server.listen.to_string());
  fixed("server.threads", a.server.threads != b.server.threads);
  fixed("server.max_connections", a.server.max_connections != b.server.max_connections);
  fixed("server.reuse_port", a.server.reuse_port != b.server.reuse_port);
  fixed("store.backend", a.store.backend != b.store.backend);
  fixed("store.journal.path", a.store.journal_path != b.store.journal_path);
  fixed("store.journal.max_syncs_per_second",
        a.store.journal_max_syncs_per_second != b.store.journal_max_syncs_per_second);
  fixed("store.redis.url", a.store.redis_url != b.store.redis_url);
  fixed("store.redis.key_prefix", a.store.redis_key_prefix != b.store.redis_key_prefix);
  fixed("store.redis.ca_file", a.store.redis_ca_file != b.store.redis_ca_file);
  fixed("store.redis.cert_file", a.store.redis_cert_file != b.store.redis_cert_file);
  fixed("store.redis.key_file", a.store.redis_key_file != b.store.redis_key_file);
  fixed("store.redis.command_timeout", a.store.redis_command_timeout != b.store.redis_command_timeout);
  fixed("store.redis.orphan_wait", a.store.redis_orphan_wait != b.store.redis_orphan_wait);
  fixed("store.dynamodb.region", a.store.dynamodb_region != b.store.dynamodb_region);
  fixed("store.dynamodb.table", a.store.dynamodb_table != b.store.dynamodb_table);
  fixed("store.dynamodb.endpoint", a.store.dynamodb_endpoint != b.store.dynamodb_endpoint);
  fixed("store.dynamodb.create_table", a.store.dynamodb_create_table != b.store.dynamodb_create_table);
  fixed("store.dynamodb.operation_timeout", a.store.dynamodb_operation_timeout != b.store.dynamodb_operation_timeout);
  fixed("store.dynamodb.orphan_wait", a.store.dynamodb_orphan_wait != b.store.dynamodb_orphan_wait);
  fixed("store.spool.path", a.store.spool_path != b.store.spool_path);
  fixed("telephony.provider", a.telephony.provider != b.telephony.provider);
  // Each reactor's HTTPS client (pools, CA store) is built at start-up.
  fixed("telephony.http_client", a.telephony.http_client != b.telephony.http_client);

  // Each new connection and request reads these from the reactor's snapshot.
  live("server.public_base_url", a.server.public_base_url != b.server.public_base_url);
  live("server.max_connections_per_address",
       a.server.max_connections_per_address != b.server.max_connections_per_address);
  live("server.max_header_bytes", a.server.max_header_bytes != b.server.max_header_bytes);
  live("server.max_body_bytes", a.server.max_body_bytes != b.server.max_body_bytes);
  live("server.read_timeout", a.server.read_timeout != b.server.read_timeout);
  live("server.idle_timeout", a.server.idle_timeout != b.server.idle_timeout);
  live("server.write_timeout", a.server.write_timeout != b.server.write_timeout);
  live("server.drain_timeout", a.server.drain_timeout != b.server.drain_timeout);
  live("log.level", a.log.level != b.log.level);
  live("log.access_log", a.log.access_log != b.log.access_log);
  live("admin.token", a.admin.token != b.admin.token);
  live("server.trusted_proxies", a.server.trusted_proxies != b.server.trusted_proxies);
  live("telephony.routes", a.telephony.routes != b.telephony.routes);
  live("call_flow", a.call_flow != b.call_flow);
  live("intake", a.intake != b.intake);
  fixed("dialer.path", a.dialer.path != b.dialer.path);
  // The outbox and its delivery loops are made at start-up, with the journal.
  fixed("events", a.events != b.events);
  // Each new media stream reads the voice settings from the snapshot; the
  // recordings stay where they were written.
  fixed("voice.recordings_path", a.voice.recordings_path != b.voice.recordings_path);
  auto voice_less_path = [](VoiceConfig voice) {
    voice.recordings_path.clear();
    return voice;
  };
  live("voice", voice_less_path(a.voice) != voice_less_path(b.voice));
  // The dialer reads its policies at every decision; breakers keep the
  // policy they were made with.
  live("dialer", !same_dialer_policies(a.dialer, b.dialer));

  plan.effective = reloaded;
  plan.effective.server.listen = running.server.listen;
  plan.effective.server.threads = running.server.threads;
  plan.effective.server.max_connections = running.server.max_connections;
  plan.effective.server.reuse_port = running.server.reuse_port;
  plan.effective.store = running.store;
  plan.effective.telephony.provider = running.telephony.provider;
  plan.effective.telephony.http_client = running.telephony.http_client;
  plan.effective.dialer.path = running.dialer.path;
  plan.effective.voice.recordings_path = running.voice.recordings_path;
  plan.effective.events = running.events;
  // Each provider's own keys, by the provider's rules. A section only one
  // side has is compared with its defaults.
  ReloadKeys keys(plan.applied, plan.needs_restart);
  std::map<ProviderName, const ProviderConfigSection*> owners;
  for (const auto* side : {&a.telephony.sections, &b.telephony.sections})
    for (const auto& [name, settings] : *side)
      if (settings.owner() != nullptr) owners.emplace(name, settings.owner());
  for (const auto& entry : owners) {
    const auto& name = entry.first;
    const auto* owner = entry.second;
    const auto value_in = [&](const Config& config) {
      const auto found = config.telephony.sections.find(name);
      return found != config.telephony.sections.end() ? found->second : owner->defaults();
    };
    auto [effective, added] = plan.effective.telephony.sections.try_emplace(name, owner->defaults());
    owner->plan_reload(value_in(a), value_in(b), effective->second, keys);
  }
  return plan;
}

}  // namespace callgate
