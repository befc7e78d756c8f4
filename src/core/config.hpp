// Typed configuration: one struct per component, every field with its default.
// conf/callgate.yaml documents each key; config_loader.cpp fills these from YAML
// and the environment and rejects anything it does not understand.
#pragma once

#include "core/duration.hpp"
#include "core/listen_address.hpp"
#include "core/log.hpp"

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
  unsigned max_connections = 10'000;  // for the whole daemon, shared out among reactors
  Milliseconds read_timeout{10'000};   // from a request's first byte to its last
  Milliseconds idle_timeout{60'000};   // a keep-alive connection waiting for its next request
  Milliseconds write_timeout{10'000};
  Milliseconds drain_timeout{15'000};  // SIGTERM: how long in-flight requests may take
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
  std::string redis_url = "redis://127.0.0.1:6379/0";
};

enum class ProviderName { twilio, exotel, simulator };

struct TwilioConfig {
  std::string account_sid;
  std::string auth_token;
  std::string phone_number;
  std::string call_flow_url;  // empty: {public_base_url}/twiml
  bool record_calls = false;
  std::string api_base = "https://api.twilio.com";
};

struct ExotelConfig {
  std::string account_sid;
  std::string api_key;
  std::string api_token;
  std::string exophone_number;
  std::string call_flow_url;
  std::string flow_id;
  std::string webhook_secret;
  std::string api_base = "https://api.exotel.com";
};

struct TelephonyConfig {
  ProviderName provider = ProviderName::simulator;
  TwilioConfig twilio;
  ExotelConfig exotel;
};

struct Config {
  ServerConfig server;
  LogConfig log;
  AdminConfig admin;
  StoreConfig store;
  TelephonyConfig telephony;
};

std::string_view to_string(StoreBackend backend);
std::string_view to_string(ProviderName provider);

// What a SIGHUP can change in a running daemon, and what needs a restart.
struct ReloadPlan {
  Config effective;                          // the reloaded file, less what needs a restart
  std::vector<std::string> applied;          // keys whose new values take effect now
  std::vector<std::string> needs_restart;    // keys that changed but keep their running values
};
ReloadPlan plan_reload(const Config& running, const Config& reloaded);

}  // namespace callgate
