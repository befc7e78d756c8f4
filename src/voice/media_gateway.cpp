#include "voice/media_gateway.hpp"

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/network_range.hpp"
#include "core/spawn.hpp"
#include "core/state_files.hpp"
#include "core/voice/stream_token.hpp"
#include "http/endpoints/lead_endpoints.hpp"
#include "providers/exotel/settings.hpp"
#include "providers/public_url.hpp"
#include "providers/twilio/settings.hpp"
#include "providers/twilio/signature.hpp"
#include "voice/media_bridge.hpp"
#include "voice/recording_file.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace callgate::voice {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

MediaMetricIds declare_metrics(MetricsRegistry& registry) {
  return {
      registry.declare_counter("callgate_media_streams_total",
                               "Bridged media streams ended, by provider and outcome (completed, hangup, transfer, "
                               "agent_unavailable, refused)."),
      registry.declare_counter("callgate_media_streams_refused_total",
                               "Media stream upgrades or starts refused, by provider and reason."),
      registry.declare_counter("callgate_media_frames_total", "Audio frames relayed, by direction."),
      registry.declare_counter("callgate_media_frames_dropped_total",
                               "Audio frames dropped because their side was slower than real time, by direction."),
      registry.declare_histogram("callgate_media_agent_connect_seconds",
                                 "Time to open the voice agent's WebSocket (DNS, TCP, TLS, handshake).",
                                 {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
      registry.declare_histogram("callgate_media_relay_delay_seconds",
                                 "From a frame's arrival on one side to its write on the other, by direction.",
                                 {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}),
      registry.declare_counter("callgate_media_agent_messages_refused_total",
                               "Messages from the voice agent that were malformed or asked for what the provider "
                               "cannot do; passed over."),
      registry.declare_counter("callgate_recordings_total", "Bridged-call recordings finished, saved or failed."),
  };
}

// Why the upgrade is not the provider's, or nothing.
std::optional<std::string> unauthenticated(StreamFormat format, const http::RequestContext& context) {
  const auto& config = context.config;
  if (format == StreamFormat::twilio) {
    const auto& twilio = providers::twilio::settings_of(config);
    if (!twilio.verify_signatures) return std::nullopt;
    const auto signature = http::header_value(context.request, "X-Twilio-Signature");
    if (signature.empty()) return "missing_signature";
    // Twilio signs the wss:// URL it opened (no body parameters).
    const auto url = providers::with_websocket_scheme(
        providers::public_url_of(context.request, context.peer.address(), config.server));
    const http::FormFields none;
    for (const auto* token : {&twilio.auth_token, &twilio.auth_token_secondary})
      if (!token->empty() && providers::twilio::is_valid_signature(*token, url, none, signature)) return std::nullopt;
    return "bad_signature";
  }
  const auto& voice = config.voice;
  if (voice.exotel_username.empty() && voice.exotel_networks.empty()) return "not_configured";
  if (!voice.exotel_username.empty()) {
    const auto header = http::header_value(context.request, beast_http::field::authorization);
    const auto given =
        header.size() > 6 && header.substr(0, 6) == "Basic " ? base64_decode(header.substr(6)) : std::nullopt;
    const auto expected = voice.exotel_username + ":" + voice.exotel_password;
    if (!given || !equal_in_constant_time(*given, expected)) return "bad_credentials";
  }
  if (!voice.exotel_networks.empty()) {
    boost::system::error_code error;
    const auto address = asio::ip::make_address(http::client_address(context), error);
    if (error || !any_contains(voice.exotel_networks, address)) return "address_not_allowed";
  }
  return std::nullopt;
}

struct StreamPlace {
  explicit StreamPlace(std::atomic<unsigned>& streams) : open(streams) {}
  ~StreamPlace() { open.fetch_sub(1, std::memory_order_relaxed); }
  std::atomic<unsigned>& open;
};

asio::awaitable<http::Response> upgrade(std::shared_ptr<MediaGateway::Shared> shared, StreamFormat format,
                                        http::RequestContext& context) {
  const auto provider = std::string(to_string(format));
  auto refuse = [&](http::Status status, std::string_view reason, std::string message) {
    if (const auto* lane = shared->lane_for(context.shard.io()))
      lane->metrics->counter(shared->ids.streams_refused, {{"provider", provider}, {"reason", std::string(reason)}})
          .increment();
    LogLine(LogLevel::warn, "media_stream_refused")
        .trusted_text("provider", provider)
        .trusted_text("reason", reason)
        .trusted_text("request_id", context.request_id);
    return http::make_json_error(status, message, context.request_id);
  };
  if (!boost::beast::websocket::is_upgrade(context.request))
    co_return refuse(http::Status::upgrade_required, "not_websocket",
                     "this is the " + provider + " media stream endpoint: it takes a WebSocket upgrade");
  if (auto why = unauthenticated(format, context))
    co_return refuse(http::Status::forbidden, *why,
                     *why == "not_configured"
                         ? "Exotel streams are not accepted: set voice.exotel.username and password, or "
                           "voice.exotel.allowed_networks"
                         : "the upgrade is not authenticated as " + provider + " (" + *why + ")");
  if (context.config.voice.agent_url.empty())
    co_return refuse(http::Status::service_unavailable, "no_agent", "voice.agent.url is not set: nothing to bridge to");
  if (shared->open.fetch_add(1, std::memory_order_relaxed) >= context.config.voice.max_streams) {
    shared->open.fetch_sub(1, std::memory_order_relaxed);
    co_return refuse(http::Status::service_unavailable, "at_capacity", "voice.max_streams streams are open");
  }
  auto place = std::make_shared<StreamPlace>(shared->open);
  *context.takeover = [shared, format, config = context.shard.config(), place](asio::ip::tcp::socket& socket,
                                                                               boost::beast::flat_buffer& already_read,
                                                                               http::Request request) {
    // A client that spoke before the handshake's answer is no provider.
    if (already_read.size() > 0) return [](std::shared_ptr<void>) -> asio::awaitable<void> { co_return; }(place);
    // The session's read buffer (16 KiB) is not needed for the call's hours.
    already_read.shrink_to_fit();
    return serve_media_stream(shared, format, config, place, socket, std::move(request));
  };
  co_return http::Response{http::Status::switching_protocols, 11};
}

// ---- GET /leads/{id}/recordings/{n} ----

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

// One range of "bytes=a-b", "bytes=a-", "bytes=-n"; nothing for a header
// this does not serve (several ranges, another unit): the whole file then.
// unsatisfiable: the range starts past the end.
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size, bool& unsatisfiable) {
  unsatisfiable = false;
  if (!header.starts_with("bytes=") || header.find(',') != std::string_view::npos) return std::nullopt;
  const auto spec = header.substr(6);
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view text) -> std::optional<std::uint64_t> {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
  };
  const auto first = number(spec.substr(0, dash));
  const auto last = number(spec.substr(dash + 1));
  if (!first) {
    if (!last || *last == 0 || size == 0) {
      unsatisfiable = last.has_value();
      return std::nullopt;
    }
    return ByteRange{size - std::min(*last, size), size - 1};
  }
  if (last && *last < *first) return std::nullopt;  // invalid: ignored, as RFC 9110 says
  if (*first >= size) {
    unsatisfiable = true;
    return std::nullopt;
  }
  return ByteRange{*first, std::min(last.value_or(size - 1), size - 1)};
}

// Writes the answer's head, then the file's bytes from first to last, in
// blocks, each within the write timeout.
asio::awaitable<void> stream_file(int fd, std::string head, ByteRange range, bool with_body,
                                  std::chrono::milliseconds write_timeout, asio::ip::tcp::socket& socket) {
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  asio::steady_timer deadline(socket.get_executor());
  bool expired = false;
  auto write = [&](std::string_view bytes) -> asio::awaitable<bool> {
    deadline.expires_after(write_timeout);
    deadline.async_wait([&socket, &expired](boost::system::error_code error) {
      if (error) return;
      expired = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
    auto [error, written] = co_await asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()), use_tuple);
    deadline.cancel();
    co_return !error && !expired;
  };
  if (!co_await write(head) || !with_body) co_return;
  std::string block(64 * 1024, '\0');
  for (std::uint64_t at = range.first; at <= range.last;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), range.last - at + 1));
    const auto got = ::pread(fd, block.data(), want, static_cast<off_t>(at));
    if (got <= 0) co_return;  // the file shrank under us: the client sees a short body and the close
    if (!co_await write(std::string_view(block.data(), static_cast<std::size_t>(got)))) co_return;
    at += static_cast<std::uint64_t>(got);
  }
}

asio::awaitable<http::Response> serve_recording(std::shared_ptr<MediaGateway::Shared> shared, store::LeadStore& store,
                                                http::RequestContext& context) {
  if (auto refusal = http::require_admin(context)) co_return std::move(*refusal);
  const auto lead_id = std::string(context.parameters.get("id").value_or(""));
  const auto number_text = context.parameters.get("n").value_or("");
  std::size_t number = 0;
  const auto [end, error] = std::from_chars(number_text.data(), number_text.data() + number_text.size(), number);
  if (error != std::errc{} || end != number_text.data() + number_text.size() || number == 0)
    co_return http::make_json_error(http::Status::bad_request, "the recording number is 1, 2, ... (1-based)",
                                    context.request_id);
  auto got = co_await store.get(lead_id);
  if (auto* failure = std::get_if<store::StoreError>(&got))
    co_return http::make_json_error(
        failure->failure == store::StoreFailure::not_found ? http::Status::not_found
                                                           : http::Status::service_unavailable,
        failure->failure == store::StoreFailure::not_found ? "no lead with that id" : "the lead store is unavailable",
        context.request_id);
  const auto& lead = std::get<Lead>(got);
  if (number > lead.recordings.size())
    co_return http::make_json_error(http::Status::not_found,
                                    "the lead has " + std::to_string(lead.recordings.size()) + " recording(s)",
                                    context.request_id);
  const auto& recording = lead.recordings[number - 1];
  if (recording.file.empty())
    co_return http::make_json_error(http::Status::not_found,
                                    "this recording is kept by the provider only (see its providerUrl on the lead)",
                                    context.request_id);
  if (!is_recording_file_name(recording.file))
    co_return http::make_json_error(http::Status::internal_server_error,
                                    "the lead names a recording file that cannot be ours", context.request_id);
  const auto path = fs::path(shared->recordings_path) / recording.file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat status {};
  if (fd < 0 || ::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    if (fd >= 0) ::close(fd);
    co_return http::make_json_error(http::Status::gone,
                                    "the recording's file is gone (voice.recording_retention, or deleted by hand)",
                                    context.request_id);
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  bool unsatisfiable = false;
  const auto range = parse_range(http::header_value(context.request, beast_http::field::range), size, unsatisfiable);
  if (unsatisfiable) {
    ::close(fd);
    auto response = http::make_json_error(http::Status::range_not_satisfiable,
                                          "the range starts past the recording's " + std::to_string(size) + " bytes",
                                          context.request_id);
    response.set(beast_http::field::content_range, "bytes */" + std::to_string(size));
    co_return response;
  }
  if (size == 0) {
    ::close(fd);
    co_return http::make_json_error(http::Status::gone, "the recording's file is empty", context.request_id);
  }
  const ByteRange sent = range.value_or(ByteRange{0, size - 1});
  const auto status_code = range ? http::Status::partial_content : http::Status::ok;
  std::string head =
      "HTTP/1.1 " + std::to_string(static_cast<unsigned>(status_code)) + (range ? " Partial Content" : " OK") +
      "\r\nServer: callgated\r\nX-Request-Id: " + context.request_id +
      "\r\nContent-Type: " + (recording.file.ends_with(".mp3") ? "audio/mpeg" : "audio/wav") +
      "\r\nAccept-Ranges: bytes\r\nContent-Length: " + std::to_string(sent.last - sent.first + 1) + "\r\n";
  if (range)
    head += "Content-Range: bytes " + std::to_string(sent.first) + "-" + std::to_string(sent.last) + "/" +
            std::to_string(size) + "\r\n";
  head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
  const bool with_body = context.request.method() != beast_http::verb::head;
  const auto write_timeout = std::max(context.config.server.write_timeout, Milliseconds(5'000));
  *context.takeover = [fd, head = std::move(head), sent, with_body, write_timeout](
                          asio::ip::tcp::socket& socket, boost::beast::flat_buffer&, http::Request) {
    return stream_file(fd, head, sent, with_body, write_timeout, socket);
  };
  co_return http::Response{status_code, 11};
}

// What a provider's recording URL is fetched with: Twilio's needs the
// extension of the format wanted and the account's Basic credentials;
// Exotel's (its own hosts) its API key and token; anything else as given.
http::ClientRequest recording_download(const Config& config, const Recording& recording) {
  http::ClientRequest request;
  request.method = beast_http::verb::get;
  request.max_response_bytes = MediaGateway::kMaxFetchedRecordingBytes;
  auto basic = [&request](const std::string& user, const std::string& password) {
    request.headers.emplace_back("Authorization", "Basic " + base64_encode(user + ":" + password));
  };
  if (recording.source == "twilio") {
    const auto& twilio = providers::twilio::settings_of(config);
    request.url = recording.provider_url + ".wav";
    basic(twilio.account_sid, twilio.auth_token);
    return request;
  }
  request.url = recording.provider_url;
  const auto url = boost::urls::parse_absolute_uri(recording.provider_url);
  const auto host = url ? std::string(url->host()) : std::string();
  if (recording.source == "exotel" && (host.ends_with(".exotel.com") || host.ends_with(".exotel.in"))) {
    const auto& exotel = providers::exotel::settings_of(config);
    basic(exotel.api_key, exotel.api_token);
  }
  return request;
}

asio::awaitable<void> fetch_and_keep(std::shared_ptr<MediaGateway::Shared> shared, http::HttpClient& client,
                                     std::shared_ptr<const Config> config, std::string lead_id, Recording recording) {
  auto answer = co_await client.send(recording_download(*config, recording));
  if (answer.failure != http::TransportFailure::none || answer.status != 200 || answer.body.size() < 44) {
    LogLine(LogLevel::warn, "recording_not_fetched")
        .trusted_text("lead_id", lead_id)
        .text("recording", recording.id)
        .text("reason", answer.failure != http::TransportFailure::none ? answer.failure_reason
                                                                       : "HTTP " + std::to_string(answer.status));
    co_return;
  }
  // What the provider sent decides the extension (its WAV, or what it chose to send).
  auto name = file_name_part(lead_id) + "-" + file_name_part(recording.id) +
              (answer.body.starts_with("RIFF") ? ".wav" : ".mp3");
  const auto directory = shared->recordings_path;
  auto kept = co_await run_on(shared->disk, [directory, name, body = std::move(answer.body)] {
    return keep_downloaded_recording(directory, name, body);
  });
  if (kept.index() != 0) {
    LogLine(LogLevel::error, "recording_not_fetched")
        .trusted_text("lead_id", lead_id)
        .text("reason", std::get<1>(kept));
    co_return;
  }
  recording.file = std::get<0>(kept);
  recording.updated = WallClock::now();
  auto listed = co_await shared->store.update_lead(lead_id, std::move(recording));
  if (auto* error = std::get_if<store::StoreError>(&listed))
    LogLine(LogLevel::error, "recording_not_listed").trusted_text("lead_id", lead_id).text("reason", error->message);
}

// Hourly: recordings older than retention go (on the disk thread).
asio::awaitable<void> sweep_recordings(std::shared_ptr<MediaGateway::Shared> shared, asio::steady_timer& timer,
                                       Milliseconds retention) {
  if (retention.count() == 0) co_return;
  for (;;) {
    const auto cutoff = fs::file_time_type::clock::now() - retention;
    asio::post(shared->disk, [shared, cutoff] {
      const auto deleted = delete_recordings_older_than(shared->recordings_path, cutoff);
      if (deleted > 0)
        LogLine(LogLevel::info, "recordings_deleted")
            .number("count", deleted)
            .trusted_text("why", "voice.recording_retention");
    });
    timer.expires_after(std::chrono::hours(1));
    auto [error] = co_await timer.async_wait(use_tuple);
    if (error) co_return;
  }
}

}  // namespace

std::string stream_token_key(const Config& config, std::string_view fallback) {
  if (!config.voice.stream_secret.empty()) return config.voice.stream_secret;
  if (!config.admin.token.empty()) return hmac_sha256(config.admin.token, "callgate media stream tokens");
  return std::string(fallback);
}

MediaGateway::MediaGateway(store::LeadStore& store, MetricsRegistry& registry)
    : shared_(std::make_shared<Shared>(store, declare_metrics(registry))), open_(shared_->open) {
  shared_->fallback_key = random_hex(32);
  registry.declare_gauge_function("callgate_media_streams_open", "Bridged calls in progress.",
                                  [shared = shared_] { return static_cast<std::int64_t>(shared->open.load()); });
}

MediaGateway::~MediaGateway() {
  stop();
  shared_->disk.join();
}

void MediaGateway::register_endpoints(http::HttpRouter& router) {
  router.add(http::Verb::get, "/media/twilio", [shared = shared_](http::RequestContext& context) {
    return upgrade(shared, StreamFormat::twilio, context);
  });
  router.add(http::Verb::get, "/media/exotel", [shared = shared_](http::RequestContext& context) {
    return upgrade(shared, StreamFormat::exotel, context);
  });
  router.add(http::Verb::get, "/leads/{id}/recordings/{n}", [shared = shared_](http::RequestContext& context) {
    return serve_recording(shared, shared->store, context);
  });
}

void MediaGateway::attach(asio::io_context& reactor, http::HttpClient& client, MetricsShard& metrics) {
  shared_->lanes.push_back(Lane{&reactor, &client, &metrics});
}

void MediaGateway::start(asio::io_context& home, const Config& config) {
  shared_->recordings_path = config.voice.recordings_path;
  // The directory is made only when something will be written there: a
  // daemon that bridges no calls must start without it (a developer's run
  // has no /var/lib/callgate).
  const bool bridging = config.call_flow.next == CallFlowStep::stream && config.call_flow.stream_url.empty();
  if (!(bridging && config.voice.record) && !config.voice.fetch_provider_recordings) return;
  create_private_directories(shared_->recordings_path);
  for (const auto& name : finish_abandoned_recordings(shared_->recordings_path))
    LogLine(LogLevel::warn, "recording_finished_after_crash")
        .text("file", name)
        .trusted_text("detail", "kept up to where it stopped; the lead does not list it");
  retention_timer_ = std::make_unique<asio::steady_timer>(home);
  // The loop is a function of its own: a coroutine lambda's captures would
  // die with the lambda, which spawn_loop moves away.
  spawn_loop(
      home,
      [shared = shared_, timer = retention_timer_.get(), retention = config.voice.recording_retention] {
        return sweep_recordings(shared, *timer, retention);
      },
      "recording retention");
}

void MediaGateway::stop() {
  if (retention_timer_) retention_timer_->cancel();
}

void MediaGateway::fetch_recording(asio::io_context& reactor, std::shared_ptr<const Config> config, std::string lead_id,
                                   Recording recording) {
  const auto* lane = shared_->lane_for(reactor);
  if (lane == nullptr || !config->voice.fetch_provider_recordings || recording.status != "completed" ||
      recording.provider_url.empty() || !recording.file.empty())
    return;
  spawn_task(reactor,
             fetch_and_keep(shared_, *lane->client, std::move(config), std::move(lead_id), std::move(recording)),
             "recording download");
}

std::string MediaGateway::issue_token(const Config& config, std::string_view lead_id, std::string_view call_sid) const {
  return issue_stream_token(stream_token_key(config, shared_->fallback_key),
                            StreamTokenFields{std::string(lead_id), std::string(call_sid),
                                              WallClock::now() + config.voice.token_ttl, random_hex(16)});
}

}  // namespace callgate::voice
