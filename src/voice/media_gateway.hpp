// The media bridge: /media/twilio and /media/exotel take a provider's
// WebSocket stream of a call, check it belongs to a call callgate placed
// and is in progress, open a WebSocket to the voice agent and relay both
// ways (the agent always hears Twilio's format), record both sides, and
// keep what happened on the lead. GET /leads/{id}/recordings/{n} serves the
// recordings.
//
// Everything for one call runs on the reactor that accepted its stream:
// the provider's socket, the agent's, the recording. Queues are bounded
// both ways; when the agent is not there (never reached, gone mid-call,
// not reading), the stream's end is kept on the lead as agent_unavailable
// before the provider's socket closes, so the call flow the provider asks
// for next says the fallback and the dialer calls the lead again.
#pragma once

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/store/lead_store.hpp"
#include "http/client/http_client.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::voice {

struct MediaMetricIds {
  MetricId streams;                 // counter {provider, outcome}
  MetricId streams_refused;         // counter {provider, reason}
  MetricId frames;                  // counter {direction}
  MetricId frames_dropped;          // counter {direction}
  MetricId agent_connect;           // histogram, seconds
  MetricId relay_delay;             // histogram {direction}, seconds
  MetricId agent_messages_refused;  // counter
  MetricId recordings;              // counter {outcome}
};

// The key stream tokens are signed with: voice.stream_secret, else derived
// from admin.token, else fallback (random to the process: one host only).
std::string stream_token_key(const Config& config, std::string_view fallback);

class MediaGateway {
 public:
  MediaGateway(store::LeadStore& store, MetricsRegistry& registry);
  ~MediaGateway();
  MediaGateway(const MediaGateway&) = delete;
  MediaGateway& operator=(const MediaGateway&) = delete;

  void register_endpoints(http::HttpRouter& router);
  // One reactor's client (to reach the agent) and metrics, before it runs.
  void attach(boost::asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics);
  // When calls are bridged with recording on (or provider recordings are
  // fetched): makes the recordings directory, finishes recordings a crash
  // left behind and starts the retention sweep on home (hourly). Throws
  // std::runtime_error when the directory cannot be made.
  void start(boost::asio::io_context& home, const Config& config);
  void stop();

  // The token a served call flow carries for lead_id's call call_sid.
  std::string issue_token(const Config& config, std::string_view lead_id, std::string_view call_sid) const;

  unsigned open_streams() const { return open_.load(std::memory_order_relaxed); }

  // voice.fetch_provider_recordings: downloads a provider's finished
  // recording (with the account's credentials) into the recordings path on
  // reactor's client, and lists the copy on the lead. Returns at once.
  void fetch_recording(boost::asio::io_context& reactor, std::shared_ptr<const Config> config, std::string lead_id,
                       Recording recording);

  // At most this much is downloaded of one recording (over an hour of
  // Twilio's dual-channel WAV); a larger one stays with the provider.
  static constexpr std::size_t kMaxFetchedRecordingBytes = 256 * 1024 * 1024;

  struct Lane {
    boost::asio::io_context* io = nullptr;
    http::HttpClient* client = nullptr;
    MetricsShard* metrics = nullptr;
  };
  // Shared with each bridge (the implementation's).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  std::atomic<unsigned>& open_;
  std::unique_ptr<boost::asio::steady_timer> retention_timer_;
};

}  // namespace callgate::voice
