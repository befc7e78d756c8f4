// Typed configuration: one struct per component, every field with its default.
// conf/callgate.yaml documents each key; config_loader.cpp fills these from YAML
// and the environment and rejects anything it does not understand. Each
// provider's section is the provider's own (provider_settings.hpp).
#pragma once

#include "core/dialer/calling_hours.hpp"
#include "core/dialer/circuit_breaker.hpp"
#include "core/dialer/dial_policy.hpp"

#include "core/duration.hpp"
#include "core/listen_address.hpp"
#include "core/log.hpp"
#include "core/network_range.hpp"
#include "core/provider_settings.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace callgate {

struct ServerConfig {
  ListenAddress listen{"127.0.0.1", 8080, false};
  unsigned threads = 0;  // 0 = one reactor per core
  std::string public_base_url = "http://127.0.0.1:8080";
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  unsigned max_connections = 10'000;             // for the whole daemon, shared out among reactors
  unsigned max_connections_per_address = 1'000;  // 0: no limit; trusted proxies are never limited
  // Bind the listen port even when another process already serves it
  // (SO_REUSEPORT both ways): only for a hand-over restart, on purpose.
  bool reuse_port = false;
  Milliseconds read_timeout{10'000};  // from a request's first byte to its last
  Milliseconds idle_timeout{60'000};  // a keep-alive connection waiting for its next request
  Milliseconds write_timeout{10'000};
  Milliseconds drain_timeout{15'000};  // SIGTERM: how long in-flight requests may take
  // Peers whose X-Forwarded-Proto / X-Forwarded-Host are believed when the
  // URL a provider signed is rebuilt; everyone else's are ignored.
  std::vector<NetworkRange> trusted_proxies;
};

struct LogConfig {
  LogLevel level = LogLevel::info;
  bool access_log = true;
};

struct AdminConfig {
  std::string token;  // empty: the admin endpoints answer 401 to everyone
};

enum class StoreBackend { journal, redis, memory, dynamodb };

struct StoreConfig {
  StoreBackend backend = StoreBackend::journal;
  std::string journal_path = "/var/lib/callgate/journal";
  std::uint64_t journal_compact_bytes = 256ull * 1024 * 1024;  // snapshot the journal once it is larger
  // Callbacks for calls not (yet) known wait in memory for their call sid:
  // at most this many, at most this long; older ones stay on disk only.
  std::uint64_t journal_orphans_in_memory = 100'000;
  std::uint64_t journal_orphan_memory_bytes = 64ull * 1024 * 1024;
  Milliseconds journal_orphan_wait{3'600'000};
  // Group commits a second at most (JournalWriterOptions); 0: no cap.
  unsigned journal_max_syncs_per_second = 2'000;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string redis_key_prefix = "callgate:";
  // rediss:// only: the CA that signs the server's certificate (empty: the
  // system's store), and a client certificate and its key (Redis's tls-auth-clients).
  std::string redis_ca_file;
  std::string redis_cert_file;
  std::string redis_key_file;
  Milliseconds redis_command_timeout{1'000};           // past it a command fails and the event goes to the spool
  Milliseconds redis_orphan_wait{3'600'000};           // an orphan's list expires this long after its latest event
  std::string spool_path = "/var/lib/callgate/spool";  // webhook events waiting for the store
  // DynamoDB (src/aws/dynamodb_items.hpp for the table's layout).
  std::string dynamodb_region;  // empty: AWS_REGION
  std::string dynamodb_table = "callgate";
  std::string dynamodb_endpoint;  // empty: the region's own; http:// only to a loopback address (DynamoDB Local)
  bool dynamodb_create_table = false;
  Milliseconds dynamodb_operation_timeout{2'000};  // retries of throttled requests included; then the spool
  Milliseconds dynamodb_orphan_wait{3'600'000};
};

// The outbound HTTPS client every provider uses (src/http/client).
struct HttpClientConfig {
  Milliseconds connect_timeout{5'000};   // DNS, TCP connect and TLS handshake together
  Milliseconds request_timeout{10'000};  // writing the request and reading the whole answer
  Milliseconds total_timeout{15'000};    // all of it, waiting for a pooled connection included
  Milliseconds idle_timeout{30'000};     // a pooled connection unused this long is closed, not reused
  Milliseconds dns_cache_ttl{60'000};
  unsigned max_connections_per_host = 16;
  // Per reactor and provider in use: opened at start and kept fresh, so a
  // call does not wait for a handshake after a start or a quiet spell. 0: on demand.
  unsigned warm_connections = 2;
  std::size_t max_response_bytes = 1024 * 1024;
  std::string ca_file;  // PEM bundle; empty: the system's CA store
  std::string user_agent = "callgated";

  bool operator==(const HttpClientConfig&) const = default;
};

// Which providers dial numbers starting with prefix, in order of preference
// (the dialer fails over down the list when one is down).
struct ProviderRoute {
  std::string prefix;  // "+91"; "+" alone matches every number
  std::vector<ProviderName> providers;

  bool operator==(const ProviderRoute&) const = default;
};

struct TelephonyConfig {
  // The simulator needs no account, so a fresh install runs with nothing set.
  ProviderName provider{"simulator"};
  std::vector<ProviderRoute> routes;  // empty: every number goes to provider
  HttpClientConfig http_client;
  // telephony.<name>: each provider's own section, read by the provider
  // (provider_settings.hpp). The loader puts every known provider's here;
  // settings_in (below) gives the defaults for one a hand-built Config lacks.
  std::map<ProviderName, ProviderSettings> sections;
};

// A provider's settings in telephony, as the struct its section makes.
// Read on every webhook: the few sections are told apart by their owner's
// address, not by comparing names.
template <class Settings>
const Settings& settings_in(const TelephonyConfig& telephony, const TypedProviderSection<Settings>& section) {
  for (const auto& entry : telephony.sections)
    if (entry.second.owner() == &section) return entry.second.template as<Settings>();
  static const Settings defaults{};
  return defaults;
}
template <class Settings>
Settings& settings_in(TelephonyConfig& telephony, const TypedProviderSection<Settings>& section) {
  auto [entry, added] = telephony.sections.try_emplace(section.name(), section.defaults());
  return entry->second.template as<Settings>();
}

// Whether provider places any call: telephony.provider or a route names it.
bool provider_in_use(const TelephonyConfig& telephony, const ProviderName& provider);

enum class UnknownFields { ignore, reject };
// The same number again within duplicate_window, once its lead's calls are
// over: a new lead and a new call, or the finished lead again.
enum class RepeatWhenDone { call_again, same_lead };

// POST /enquire: what a web form may send and how much of it.
struct IntakeConfig {
  std::string default_country_code = "91";  // for national numbers ("098765 43210")
  std::string consent_text_version = "v1";  // which consent wording the form showed; stored with the consent
  // The wording GET / and /embed.js show beside the consent box (keep
  // consent_text_version in step with it).
  std::string consent_text = "I agree to receive a phone call about my enquiry at this number.";
  Milliseconds duplicate_window{600'000};  // the same number again within this returns the existing lead; 0: off
  RepeatWhenDone repeat_when_done = RepeatWhenDone::call_again;
  UnknownFields unknown_fields = UnknownFields::ignore;
  std::size_t max_name_length = 200;
  std::size_t max_source_length = 200;
  std::size_t max_metadata_bytes = 4096;
  unsigned rate_per_minute = 10;  // enquiries per client address, refilled continuously
  unsigned rate_burst = 5;        // how many may come at once
  // GET /enquire/{id} per client address: the enquiry page polls about once
  // a second while a call is under way; far more is somebody guessing ids.
  unsigned status_rate_per_minute = 120;
  unsigned status_rate_burst = 30;
  std::vector<std::string> cors_allowed_origins;  // "https://www.example.com"; empty: no cross-origin posts

  bool operator==(const IntakeConfig&) const = default;
};

// What the caller hears (Twilio's /twiml): a greeting, then one next step.
enum class CallFlowStep { gather, stream, hangup };

struct CallFlowConfig {
  std::string greeting_say = "Hello! Thank you for your enquiry.";  // spoken with <Say>
  std::string greeting_play;                                        // an audio URL played with <Play> instead, when set
  std::string voice;     // <Say voice>, e.g. "Polly.Aditi"; empty: the provider's default
  std::string language;  // <Say language> and <Gather language>, e.g. "en-IN"
  CallFlowStep next = CallFlowStep::hangup;
  // gather
  std::string gather_prompt = "Please tell us briefly how we can help, or press a key.";
  unsigned gather_timeout_seconds = 5;
  unsigned gather_num_digits = 0;  // 0: no fixed count
  std::string gather_hints;
  std::string gather_reply = "Thank you. We will be in touch shortly. Goodbye.";  // after the caller answered
  // stream: empty, callgate's own /media/<provider> (bridged to voice.agent.url);
  // else the wss:// URL of an agent the provider connects to directly
  std::string stream_url;

  bool operator==(const CallFlowConfig&) const = default;
};

// The dialer (src/dialer): when and how often a lead is called.
struct DialerConfig {
  std::string path;                      // the embedded scheduler's directory; empty: beside the store
  Milliseconds lease{60'000};            // a claimed job nobody completed is due again after this
  dialer::RetryPolicy retry;             // placements that failed in a way worth retrying
  dialer::RedialPolicy redial;           // calls nobody (or a machine) answered
  dialer::BreakerPolicy breaker;         // per provider: fail over after repeated retryable failures
  dialer::AmbiguousPolicy ambiguous;     // placements that may have rung: settled before any new call
  dialer::CallingHours calling_hours;    // default: all day, every day, UTC
  int max_calls_per_number_per_day = 0;  // across leads, by the number's calling-hours date; 0: no cap
  // How often leads stored without their first call's job are looked for,
  // and how old one must be to count (younger ones may be mid-enquiry).
  Milliseconds unscheduled_lead_sweep{30'000};
};

// The media bridge (src/voice): the provider's call audio relayed to an AI
// voice agent and back, recorded.
enum class RecordingFormat { pcm16, mulaw };

struct VoiceConfig {
  std::string agent_url;  // ws:// or wss:// of the voice agent
  Milliseconds agent_connect_timeout{3'000};
  // The agent took no frame for this long while frames waited for it: it
  // is treated as gone (the caller gets the fallback).
  Milliseconds agent_stall_timeout{2'000};
  Milliseconds start_timeout{5'000};  // the provider's start message must arrive within it
  Milliseconds token_ttl{600'000};    // how long the stream token in a served call flow stays good
  // Signs stream tokens; every host of a fleet needs the same. Empty: derived
  // from the providers' secrets and admin.token (the same on every host that
  // shares the config).
  std::string stream_secret;
  std::size_t queue_frames =
      100;                       // per direction per call; beyond it the oldest audio is dropped (2 s of 20 ms frames)
  unsigned max_streams = 2'000;  // bridged calls at once, across reactors
  bool record = true;
  RecordingFormat recording_format = RecordingFormat::pcm16;
  std::string recordings_path = "/var/lib/callgate/recordings";
  Milliseconds recording_retention{90LL * 86'400'000};  // 0: kept until deleted by hand
  bool fetch_provider_recordings = false;               // download the provider's recordings into recordings_path
  std::string consent_notice;                           // said before the stream opens, e.g. "This call is recorded."
  std::string fallback_say = "Sorry, our assistant cannot take your call right now. We will call you back shortly.";
  // /media/exotel: Exotel's Voicebot applet authenticates with credentials
  // in its wss:// URL (Basic) and/or by its addresses.
  std::string exotel_username;
  std::string exotel_password;
  std::vector<NetworkRange> exotel_networks;

  bool operator==(const VoiceConfig&) const = default;
};

// Lead events delivered to the business's own systems (src/events), signed
// per Standard Webhooks and retried until taken or too old.
struct EventEndpointConfig {
  std::string name;                // names its records in the journal; default: the URL
  std::string url;                 // https://, or http:// to a loopback address
  std::string secret;              // whsec_<base64>
  std::vector<std::string> types;  // empty: every type

  bool operator==(const EventEndpointConfig&) const = default;
};

struct EventsConfig {
  std::vector<EventEndpointConfig> endpoints;
  Milliseconds retry_first{1'000};
  Milliseconds retry_longest{600'000};
  Milliseconds give_up_after{3LL * 86'400'000};
  Milliseconds timeout{10'000};  // one delivery: connect, send, answer
  unsigned concurrency = 8;      // deliveries in flight per endpoint, each for another lead

  bool operator==(const EventsConfig&) const = default;
};

struct Config {
  ServerConfig server;
  LogConfig log;
  AdminConfig admin;
  StoreConfig store;
  TelephonyConfig telephony;
  CallFlowConfig call_flow;
  IntakeConfig intake;
  DialerConfig dialer;
  VoiceConfig voice;
  EventsConfig events;
};

std::string_view to_string(StoreBackend backend);
std::string_view to_string(CallFlowStep step);

// What a SIGHUP can change in a running daemon, and what needs a restart.
struct ReloadPlan {
  Config effective;                        // the reloaded file, less what needs a restart
  std::vector<std::string> applied;        // keys whose new values take effect now
  std::vector<std::string> needs_restart;  // keys that changed but keep their running values
};
ReloadPlan plan_reload(const Config& running, const Config& reloaded);

}  // namespace callgate
