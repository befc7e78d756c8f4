// Typed configuration: one struct per component, every field with its default.
// conf/callgate.yaml documents each key; config_loader.cpp fills these from YAML
// and the environment and rejects anything it does not understand.
#pragma once

#include "core/dialer/calling_hours.hpp"
#include "core/dialer/circuit_breaker.hpp"
#include "core/dialer/dial_policy.hpp"

#include "core/duration.hpp"
#include "core/listen_address.hpp"
#include "core/log.hpp"
#include "core/network_range.hpp"

#include <cstddef>
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

enum class StoreBackend { journal, redis, memory };

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
  Milliseconds redis_command_timeout{1'000};           // past it a command fails and the event goes to the spool
  Milliseconds redis_orphan_wait{3'600'000};           // an orphan's list expires this long after its latest event
  std::string spool_path = "/var/lib/callgate/spool";  // webhook events waiting for the store
};

enum class ProviderName { twilio, exotel, simulator };

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

struct TwilioConfig {
  std::string account_sid;
  std::string auth_token;
  // During a rotation: the token Twilio calls secondary. Requests signed
  // with either are taken, so a reload with the new primary loses none
  // signed a moment before; empty once the rotation is done.
  std::string auth_token_secondary;
  std::string phone_number;
  std::string call_flow_url;  // empty: {public_base_url}/twiml
  bool record_calls = false;
  std::string api_base = "https://api.twilio.com";
  bool verify_signatures = true;      // false only for local experiments; logged loudly
  unsigned ring_timeout_seconds = 0;  // Timeout; 0 leaves Twilio's default (60)
  unsigned time_limit_seconds = 0;    // TimeLimit; 0 leaves Twilio's default
  std::string machine_detection;      // "", "Enable" or "DetectMessageEnd"
  unsigned calls_per_minute = 0;      // the account's pace for new calls (Twilio's CPS x 60); 0: unpaced
};

// How callgate knows a request on /webhook/exotel or /exotel/passthru came
// from Exotel, which signs nothing. Every check configured must pass.
struct ExotelWebhookAuthConfig {
  // The HMAC-SHA256 of the raw body with exotel.webhook_secret in
  // X-Exotel-Signature (hex or base64) is checked whenever the secret is set.
  std::string callback_token;  // put in the callback URLs as ?token=, checked in constant time
  std::string basic_username;  // put in the callback URLs as user:password@, checked as Basic auth
  std::string basic_password;
  std::vector<NetworkRange> allowed_sources;  // the peer's address must be in one of these
  bool allow_unauthenticated = false;         // development only: accept with no check at all

  bool operator==(const ExotelWebhookAuthConfig&) const = default;
};

struct ExotelConfig {
  std::string account_sid;
  std::string api_key;
  std::string api_token;
  std::string exophone_number;
  std::string call_flow_url;
  std::string flow_id;
  std::string webhook_secret;
  std::string region = "singapore";  // singapore (api.exotel.com) or mumbai (api.in.exotel.com)
  std::string api_base;              // empty: the region's host
  bool record_calls = false;
  unsigned ring_timeout_seconds = 0;  // TimeOut; 0 leaves Exotel's default
  unsigned time_limit_seconds = 0;    // TimeLimit, at most 14400; 0 leaves Exotel's default
  ExotelWebhookAuthConfig webhook_auth;
  unsigned calls_per_minute = 0;  // the account's pace for new calls (Exotel allows 200); 0: unpaced
};

// Which providers dial numbers starting with prefix, in order of preference
// (the dialer fails over down the list when one is down).
struct ProviderRoute {
  std::string prefix;  // "+91"; "+" alone matches every number
  std::vector<ProviderName> providers;

  bool operator==(const ProviderRoute&) const = default;
};

// The simulator (src/providers/simulator): a provider account played by
// callgated itself, which never rings a phone. Its calls take the same paths
// a real provider's do: placed over HTTP, the call flow fetched signed, the
// status callbacks posted signed in the chosen provider's format.
enum class SimulatorFormat { twilio, exotel };

struct SimulatorOutcomeWeights {
  unsigned answered = 60;
  unsigned busy = 15;
  unsigned no_answer = 20;
  unsigned failed = 5;

  bool operator==(const SimulatorOutcomeWeights&) const = default;
};

struct SimulatorConfig {
  SimulatorFormat format = SimulatorFormat::twilio;  // whose callbacks it sends
  // Signs what it sends (Twilio's X-Twilio-Signature, or the HMAC Exotel's
  // format carries) and is its account's password. It guards simulated calls
  // only. Empty (the default): a random one is made at each start, which
  // is all the simulator needs, since it is both ends of every call.
  std::string auth_token;
  std::string phone_number = "+15005550006";  // the number simulated calls come from
  SimulatorOutcomeWeights outcomes;           // relative weights
  Milliseconds ring_min{2'000};
  Milliseconds ring_max{8'000};
  Milliseconds talk_min{20'000};
  Milliseconds talk_max{90'000};
  unsigned speed = 1;                        // every delay divided by this: 10 plays a minute's call in 6 s
  std::uint64_t seed = 0;                    // 0: a new random seed at each start; else the same calls every run
  bool shuffle_callbacks = false;            // deliver each call's callbacks in a random order
  unsigned duplicate_callbacks_percent = 0;  // each callback delivered a second time with this chance
  std::string gather_digits = "1";           // what the simulated customer presses at a <Gather>
};

struct TelephonyConfig {
  ProviderName provider = ProviderName::simulator;
  std::vector<ProviderRoute> routes;  // empty: every number goes to provider
  HttpClientConfig http_client;
  TwilioConfig twilio;
  ExotelConfig exotel;
  SimulatorConfig simulator;
};

// Whether provider places any call: telephony.provider or a route names it.
bool provider_in_use(const TelephonyConfig& telephony, ProviderName provider);

enum class UnknownFields { ignore, reject };

// POST /enquire: what a web form may send and how much of it.
struct IntakeConfig {
  std::string default_country_code = "91";  // for national numbers ("098765 43210")
  std::string consent_text_version = "v1";  // which consent wording the form showed; stored with the consent
  // The wording GET / and /embed.js show beside the consent box (keep
  // consent_text_version in step with it).
  std::string consent_text = "I agree to receive a phone call about my enquiry at this number.";
  Milliseconds duplicate_window{600'000};  // the same number again within this returns the existing lead; 0: off
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
  // stream
  std::string stream_url;  // wss:// of the AI voice agent

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

struct Config {
  ServerConfig server;
  LogConfig log;
  AdminConfig admin;
  StoreConfig store;
  TelephonyConfig telephony;
  CallFlowConfig call_flow;
  IntakeConfig intake;
  DialerConfig dialer;
};

std::string_view to_string(StoreBackend backend);
std::string_view to_string(ProviderName provider);
std::string_view to_string(CallFlowStep step);

// What a SIGHUP can change in a running daemon, and what needs a restart.
struct ReloadPlan {
  Config effective;                        // the reloaded file, less what needs a restart
  std::vector<std::string> applied;        // keys whose new values take effect now
  std::vector<std::string> needs_restart;  // keys that changed but keep their running values
};
ReloadPlan plan_reload(const Config& running, const Config& reloaded);

}  // namespace callgate
