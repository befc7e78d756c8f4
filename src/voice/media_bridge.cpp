#include "voice/media_bridge.hpp"

#include "core/crypto.hpp"
#include "core/lead/call_status.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "core/voice/mulaw.hpp"
#include "core/voice/stereo_recording.hpp"
#include "core/voice/stream_token.hpp"
#include "voice/agent_socket.hpp"
#include "voice/recording_file.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <deque>

namespace callgate::voice {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kFrameMs = 20;
constexpr std::size_t kMulawFrameBytes = 160;  // 20 ms at 8 kHz
constexpr auto kClosingGrace = std::chrono::seconds(3);
constexpr auto kExotelFlushAfter = std::chrono::milliseconds(100);
constexpr auto kWatchdogEvery = std::chrono::seconds(5);
constexpr auto kProviderSilence = std::chrono::seconds(30);  // a provider sends every 20 ms

std::vector<std::int16_t> samples_of_mulaw(std::string_view mulaw) {
  std::vector<std::int16_t> samples(mulaw.size());
  for (std::size_t index = 0; index < mulaw.size(); ++index)
    samples[index] = mulaw_to_linear(static_cast<std::uint8_t>(mulaw[index]));
  return samples;
}

std::vector<std::int16_t> samples_of_pcm(std::string_view pcm) {
  std::vector<std::int16_t> samples(pcm.size() / 2);
  for (std::size_t index = 0; index < samples.size(); ++index)
    samples[index] = static_cast<std::int16_t>(static_cast<std::uint16_t>(
        static_cast<std::uint8_t>(pcm[2 * index]) | (static_cast<std::uint8_t>(pcm[2 * index + 1]) << 8)));
  return samples;
}

const Attempt* attempt_for_call(const Lead& lead, std::string_view call_sid) {
  for (const auto& attempt : lead.attempts)
    if (!call_sid.empty() && attempt.call_sid == call_sid) return &attempt;
  return nullptr;
}

class Bridge : public std::enable_shared_from_this<Bridge> {
 public:
  Bridge(std::shared_ptr<MediaGateway::Shared> shared, StreamFormat format, std::shared_ptr<const Config> config,
         asio::ip::tcp::socket& socket, const MediaGateway::Lane& lane)
      : shared_(std::move(shared)),
        format_(format),
        config_(std::move(config)),
        voice_(config_->voice),
        lane_(lane),
        provider_(socket),
        provider_out_(socket.get_executor()),
        agent_out_(socket.get_executor()),
        flush_timer_(socket.get_executor()),
        cut_timer_(socket.get_executor()),
        watchdog_timer_(socket.get_executor()),
        recording_(voice_.recording_format == RecordingFormat::pcm16 ? RecordingEncoding::pcm16
                                                                     : RecordingEncoding::mulaw),
        frames_to_agent_(lane.metrics->counter(shared_->ids.frames, {{"direction", "to_agent"}})),
        frames_to_provider_(lane.metrics->counter(shared_->ids.frames, {{"direction", "to_provider"}})),
        dropped_to_agent_(lane.metrics->counter(shared_->ids.frames_dropped, {{"direction", "to_agent"}})),
        dropped_to_provider_(lane.metrics->counter(shared_->ids.frames_dropped, {{"direction", "to_provider"}})),
        delay_to_agent_(lane.metrics->histogram(shared_->ids.relay_delay, {{"direction", "to_agent"}})),
        delay_to_provider_(lane.metrics->histogram(shared_->ids.relay_delay, {{"direction", "to_provider"}})) {}

  asio::awaitable<void> run(http::Request request);

 private:
  struct Outgoing {
    std::string text;
    bool audio = false;
    Clock::time_point since;  // when what it carries arrived from the other side
  };
  struct Queue {
    explicit Queue(const asio::any_io_executor& executor) : wake(executor, Clock::time_point::max()) {}
    std::deque<Outgoing> items;
    std::size_t audio = 0;
    asio::steady_timer wake;
    bool writing = false;
    bool done = false;  // its writer has stopped
    Clock::time_point write_started;
  };

  std::string_view provider_name() const { return to_string(format_); }
  void refuse(std::string_view reason, std::string detail);
  asio::awaitable<std::optional<StreamStart>> read_start();
  asio::awaitable<std::string> admit(const StreamStart& start);
  std::vector<std::pair<std::string, std::string>> agent_parameters() const;

  asio::awaitable<void> provider_reader();
  asio::awaitable<void> watchdog();
  asio::awaitable<void> agent_reader();
  asio::awaitable<void> provider_writer();
  asio::awaitable<void> agent_writer();
  template <class Write>
  asio::awaitable<void> write_out(Queue& queue, Write write, Histogram& delay, Counter& frames,
                                  std::string_view outcome_on_error);
  void on_provider_message(std::string_view text, Clock::time_point received);
  void on_agent_message(std::string_view text, Clock::time_point received);
  void enqueue(Queue& queue, std::string text, bool audio, Clock::time_point since, Counter& dropped);
  void to_provider_audio(std::string_view mulaw, Clock::time_point since);
  void flush_exotel(Clock::time_point since);
  void record_caller(std::uint64_t timestamp_ms, const std::vector<std::int16_t>& samples);

  // The first end wins: what happened is kept on the lead, then both sides close.
  void end(std::string outcome, std::string detail, std::string transfer_to = {});
  asio::awaitable<void> closing();
  asio::awaitable<void> record_end();
  MediaStreamEnd stream_end() const;
  Recording finished_recording(const std::string& file) const;
  void count_stream_end();
  void count_recording(bool saved);
  asio::awaitable<void> keep_recording();
  void cut_both();

  std::shared_ptr<MediaGateway::Shared> shared_;
  StreamFormat format_;
  std::shared_ptr<const Config> config_;
  const VoiceConfig& voice_;
  const MediaGateway::Lane& lane_;
  websocket::stream<asio::ip::tcp::socket&> provider_;
  std::unique_ptr<AgentSocket> agent_;
  Queue provider_out_;
  Queue agent_out_;
  asio::steady_timer flush_timer_;
  asio::steady_timer cut_timer_;
  asio::steady_timer watchdog_timer_;
  Clock::time_point last_heard_ = Clock::now();  // the provider's latest message

  StreamStart start_;
  Lead lead_;
  std::string claim_;
  std::optional<AgentMessageWriter> to_agent_;
  ExotelChunker exotel_out_;

  bool start_timed_out_ = false;
  bool ending_ = false;
  std::string outcome_;
  std::string transfer_to_;
  bool agent_said_goodbye_ = false;
  Clock::time_point opened_;

  StereoRecording recording_;
  std::unique_ptr<RecordingFile> file_;

  Counter& frames_to_agent_;
  Counter& frames_to_provider_;
  Counter& dropped_to_agent_;
  Counter& dropped_to_provider_;
  Histogram& delay_to_agent_;
  Histogram& delay_to_provider_;
};

void Bridge::refuse(std::string_view reason, std::string detail) {
  lane_.metrics
      ->counter(shared_->ids.streams_refused,
                {{"provider", std::string(provider_name())}, {"reason", std::string(reason)}})
      .increment();
  LogLine(LogLevel::warn, "media_stream_refused")
      .trusted_text("provider", provider_name())
      .trusted_text("reason", reason)
      .text("call_sid", start_.call_sid)
      .text("detail", detail);
}

asio::awaitable<void> Bridge::run(http::Request request) {
  websocket::stream_base::timeout limits{};
  limits.handshake_timeout = std::chrono::seconds(5);
  // A provider sends a frame every 20 ms for as long as the call lasts;
  // silence is watched by the bridge's own watchdog (a check every few
  // seconds), not by a timer re-armed on every frame read.
  limits.idle_timeout = websocket::stream_base::none();
  limits.keep_alive_pings = false;
  provider_.set_option(limits);
  provider_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(beast::http::field::server, "callgated"); }));
  provider_.read_message_max(256 * 1024);
  provider_.auto_fragment(false);
  auto [accepted] = co_await provider_.async_accept(request, use_tuple);
  if (accepted) co_return;
  opened_ = Clock::now();

  // The start must come soon: a socket that says nothing is closed (a
  // close handshake with the reason, which ends the pending read; the
  // WebSocket's own timeout cuts a client that never answers it).
  asio::steady_timer start_deadline(provider_.get_executor(), voice_.start_timeout);
  start_deadline.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    auto bridge = weak.lock();
    if (error || !bridge || bridge->start_.call_sid.size() > 0) return;
    bridge->start_timed_out_ = true;
    bridge->provider_.async_close(websocket::close_reason(websocket::close_code::policy_error, "no start"),
                                  [](boost::system::error_code) {});
  });
  auto start = co_await read_start();
  start_deadline.cancel();
  if (!start) {
    if (provider_.is_open())
      co_await provider_.async_close(websocket::close_reason(websocket::close_code::policy_error, "no start"),
                                     use_tuple);
    co_return;
  }
  start_ = std::move(*start);
  if (auto refusal = co_await admit(start_); !refusal.empty()) {
    co_await provider_.async_close(websocket::close_reason(websocket::close_code::policy_error, refusal), use_tuple);
    co_return;
  }

  const auto connecting = Clock::now();
  auto connected = co_await AgentSocket::connect(*lane_.client, voice_.agent_url, voice_.agent_connect_timeout);
  lane_.metrics->histogram(shared_->ids.agent_connect)
      .observe(std::chrono::duration<double>(Clock::now() - connecting).count());
  if (auto* failure = std::get_if<std::string>(&connected)) {
    end("agent_unavailable", "cannot reach the agent: " + *failure);
    co_await closing();
    co_return;
  }
  agent_ = std::move(std::get<std::unique_ptr<AgentSocket>>(connected));

  to_agent_.emplace(start_.stream_sid);
  const auto now = Clock::now();
  enqueue(agent_out_, to_agent_->connected(), false, now, dropped_to_agent_);
  // Filled field by field: GCC 12 destroys the temporaries of a braced
  // aggregate initialization in a coroutine twice.
  AgentStartContext context;
  context.stream_sid = start_.stream_sid;
  context.call_sid = start_.call_sid;
  context.account_sid = start_.account_sid;
  context.provider = std::string(provider_name());
  context.custom_parameters = agent_parameters();
  enqueue(agent_out_, to_agent_->start(context), false, now, dropped_to_agent_);

  if (voice_.record) {
    auto created = RecordingFile::create(shared_->recordings_path, lead_.id + "-" + file_name_part(start_.stream_sid),
                                         recording_.encoding());
    if (auto* file = std::get_if<std::unique_ptr<RecordingFile>>(&created))
      file_ = std::move(*file);
    else
      LogLine(LogLevel::error, "recording_not_started")
          .trusted_text("lead_id", lead_.id)
          .text("reason", std::get<std::string>(created));
  }

  co_await (provider_reader() && agent_reader() && provider_writer() && agent_writer() && watchdog());
  cut_timer_.cancel();
  co_await keep_recording();
}

asio::awaitable<std::optional<StreamStart>> Bridge::read_start() {
  beast::flat_buffer buffer;
  // connected (and anything else) may come first; a handful at most.
  for (int read = 0; read < 8; ++read) {
    auto [error, bytes] = co_await provider_.async_read(buffer, use_tuple);
    if (error) {
      refuse("no_start", start_timed_out_ ? "no start message within voice.start_timeout" : error.message());
      co_return std::nullopt;
    }
    const auto* data = static_cast<const char*>(buffer.data().data());
    auto parsed = parse_provider_message(format_, std::string_view(data, buffer.size()));
    buffer.consume(buffer.size());
    if (auto* error_message = std::get_if<MessageError>(&parsed)) {
      refuse("malformed", error_message->message);
      co_return std::nullopt;
    }
    auto& message = std::get<ProviderMessage>(parsed);
    if (message.kind == ProviderMessage::Kind::start) co_return std::move(message.start);
  }
  refuse("no_start", "no start among the first messages");
  co_return std::nullopt;
}

asio::awaitable<std::string> Bridge::admit(const StreamStart& start) {
  const auto now = WallClock::now();
  const bool twilio = format_ == StreamFormat::twilio;
  if (twilio && start.encoding != "audio/x-mulaw") {
    refuse("unsupported_audio", "media format " + start.encoding);
    co_return "unsupported audio format";
  }
  if (start.sample_rate != 8000) {
    refuse("unsupported_audio", "sample rate " + std::to_string(start.sample_rate));
    co_return "only 8 kHz audio is supported";
  }
  std::string lead_id = start.parameter("leadId").value_or("");
  const auto token = start.parameter("token");
  if (twilio && (!token || lead_id.empty())) {
    refuse("missing_token", "start without leadId and token parameters");
    co_return "missing token";
  }
  if (lead_id.empty()) {
    // Exotel's applet URL is fixed in its dashboard: the call names the lead.
    auto owner = co_await shared_->store.find_lead_by_call_sid(start.call_sid);
    if (auto* found = std::get_if<std::optional<std::string>>(&owner); found && *found) lead_id = **found;
  }
  if (token) {
    const auto check =
        check_stream_token(stream_token_key(*config_, shared_->fallback_key), *token, lead_id, start.call_sid, now);
    if (check.verdict != StreamTokenVerdict::valid) {
      refuse(std::string("token_") + std::string(to_string(check.verdict)), "lead " + lead_id);
      co_return "bad token";
    }
    claim_ = check.nonce;
  } else {
    claim_ = std::string(provider_name()) + ":" + start.call_sid;
  }
  if (lead_id.empty()) {
    refuse("unknown_call", "no lead has this call");
    co_return "unknown call";
  }
  auto got = co_await shared_->store.get(lead_id);
  if (auto* error = std::get_if<store::StoreError>(&got)) {
    refuse(error->failure == store::StoreFailure::not_found ? "unknown_call" : "store_unavailable", error->message);
    co_return "lead not available";
  }
  lead_ = std::move(std::get<Lead>(got));
  const auto* attempt = attempt_for_call(lead_, start.call_sid);
  if (attempt == nullptr || (attempt->status && is_terminal(*attempt->status))) {
    refuse("call_not_in_progress", attempt ? "the call has ended" : "the lead has no such call");
    co_return "call not in progress";
  }
  MediaStream stream;  // (no braced temporaries in a coroutine: see run())
  stream.claim = claim_;
  stream.call_sid = start.call_sid;
  stream.provider = std::string(provider_name());
  stream.stream_sid = start.stream_sid;
  stream.started = now;
  auto claimed = co_await shared_->store.update_lead(lead_.id, std::move(stream));
  if (auto* error = std::get_if<store::StoreError>(&claimed)) {
    refuse("store_unavailable", error->message);
    co_return "store unavailable";
  }
  const auto& decision = std::get<store::UpdateResult>(claimed).decision;
  if (decision.outcome == UpdateOutcome::refused) {
    refuse("token_reused", decision.reason);
    co_return "stream already claimed";
  }
  LogLine(LogLevel::info, "media_stream_started")
      .trusted_text("provider", provider_name())
      .trusted_text("lead_id", lead_.id)
      .text("call_sid", start.call_sid);
  co_return "";
}

std::vector<std::pair<std::string, std::string>> Bridge::agent_parameters() const {
  std::vector<std::pair<std::string, std::string>> parameters{
      {"leadId", lead_.id}, {"provider", std::string(provider_name())}, {"direction", "outbound"}};
  if (!lead_.name.empty()) parameters.emplace_back("leadName", lead_.name);
  if (!lead_.source.empty()) parameters.emplace_back("leadSource", lead_.source);
  if (!lead_.metadata_json.empty()) parameters.emplace_back("leadMetadata", lead_.metadata_json);
  return parameters;
}

void Bridge::enqueue(Queue& queue, std::string text, bool audio, Clock::time_point since, Counter& dropped) {
  if (ending_ || queue.done) return;
  if (&queue == &agent_out_ && queue.writing && since - queue.write_started > voice_.agent_stall_timeout) {
    end("agent_unavailable", "the agent took nothing for voice.agent.stall_timeout");
    return;
  }
  if (audio && queue.audio >= voice_.queue_frames) {
    // Slower than real time: the oldest audio goes, so what is heard stays current.
    for (auto item = queue.items.begin(); item != queue.items.end(); ++item)
      if (item->audio) {
        queue.items.erase(item);
        --queue.audio;
        dropped.increment();
        break;
      }
  }
  if (queue.items.size() >= 4 * voice_.queue_frames) {
    end(&queue == &agent_out_ ? "agent_unavailable" : "completed", "too many messages waiting to be sent");
    return;
  }
  queue.items.push_back({std::move(text), audio, since});
  if (audio) ++queue.audio;
  queue.wake.cancel();
}

void Bridge::record_caller(std::uint64_t timestamp_ms, const std::vector<std::int16_t>& samples) {
  if (!file_) return;
  recording_.caller(timestamp_ms, samples);
  // Straight into the file's block: one buffer a call, not two.
  recording_.take(file_->block());
  file_->write_if_full();
}

void Bridge::on_provider_message(std::string_view text, Clock::time_point received) {
  auto parsed = parse_provider_message(format_, text);
  if (auto* error = std::get_if<MessageError>(&parsed)) {
    refuse("malformed", error->message);
    end("refused", "a malformed message from the provider: " + error->message);
    return;
  }
  auto& message = std::get<ProviderMessage>(parsed);
  switch (message.kind) {
    case ProviderMessage::Kind::media: {
      if (format_ == StreamFormat::twilio) {
        record_caller(message.timestamp_ms, samples_of_mulaw(message.audio));
        enqueue(agent_out_, to_agent_->media(message.timestamp_ms, message.audio), true, received, dropped_to_agent_);
        return;
      }
      record_caller(message.timestamp_ms, samples_of_pcm(message.audio));
      // Exotel's chunks become Twilio's 20 ms frames, each on its own time.
      const auto mulaw = pcm16le_to_mulaw(message.audio);
      for (std::size_t at = 0, frame = 0; at < mulaw.size(); at += kMulawFrameBytes, ++frame)
        enqueue(agent_out_,
                to_agent_->media(message.timestamp_ms + frame * kFrameMs,
                                 std::string_view(mulaw).substr(at, kMulawFrameBytes)),
                true, received, dropped_to_agent_);
      return;
    }
    case ProviderMessage::Kind::dtmf:
      enqueue(agent_out_, to_agent_->dtmf(message.digit), false, received, dropped_to_agent_);
      return;
    case ProviderMessage::Kind::mark:
      enqueue(agent_out_, to_agent_->mark(message.mark_name), false, received, dropped_to_agent_);
      return;
    case ProviderMessage::Kind::stop:
      end("completed", "the provider stopped the stream");
      return;
    default:
      return;
  }
}

void Bridge::to_provider_audio(std::string_view mulaw, Clock::time_point since) {
  if (format_ == StreamFormat::twilio) {
    enqueue(provider_out_, provider_media(format_, start_.stream_sid, mulaw), true, since, dropped_to_provider_);
    return;
  }
  for (auto& chunk : exotel_out_.add(mulaw_to_pcm16le(mulaw)))
    enqueue(provider_out_, provider_media(format_, start_.stream_sid, chunk), true, since, dropped_to_provider_);
  // A pause in the agent's speech sends what is held, padded to Exotel's minimum.
  flush_timer_.expires_after(kExotelFlushAfter);
  flush_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    if (error) return;
    if (auto bridge = weak.lock()) bridge->flush_exotel(Clock::now());
  });
}

void Bridge::flush_exotel(Clock::time_point since) {
  if (auto rest = exotel_out_.flush())
    enqueue(provider_out_, provider_media(format_, start_.stream_sid, *rest), true, since, dropped_to_provider_);
}

void Bridge::on_agent_message(std::string_view text, Clock::time_point received) {
  auto parsed = parse_agent_message(text);
  if (auto* error = std::get_if<MessageError>(&parsed)) {
    // An agent's bad message is its own bug: passed over, counted, the call goes on.
    lane_.metrics->counter(shared_->ids.agent_messages_refused).increment();
    LogLine(LogLevel::debug, "agent_message_refused").trusted_text("lead_id", lead_.id).text("reason", error->message);
    return;
  }
  auto& message = std::get<AgentMessage>(parsed);
  switch (message.kind) {
    case AgentMessage::Kind::media:
      if (message.audio.empty()) return;
      if (file_) recording_.agent(samples_of_mulaw(message.audio));
      to_provider_audio(message.audio, received);
      return;
    case AgentMessage::Kind::mark:
      if (format_ == StreamFormat::exotel) flush_exotel(received);  // the mark comes after the audio it follows
      enqueue(provider_out_, provider_mark(format_, start_.stream_sid, message.mark_name), false, received,
              dropped_to_provider_);
      return;
    case AgentMessage::Kind::clear: {
      // Barge-in: audio still waiting here is dropped too, never sent after the clear.
      std::erase_if(provider_out_.items, [](const Outgoing& item) { return item.audio; });
      provider_out_.audio = 0;
      exotel_out_.clear();
      recording_.agent_cleared();
      enqueue(provider_out_, provider_clear(format_, start_.stream_sid), false, received, dropped_to_provider_);
      return;
    }
    case AgentMessage::Kind::hangup:
      agent_said_goodbye_ = true;
      end("hangup", "the agent hung up");
      return;
    case AgentMessage::Kind::transfer:
      if (format_ != StreamFormat::twilio) {
        // Exotel's flow decides where a call goes after the stream: it cannot be told here.
        lane_.metrics->counter(shared_->ids.agent_messages_refused).increment();
        LogLine(LogLevel::warn, "agent_transfer_unsupported")
            .trusted_text("lead_id", lead_.id)
            .trusted_text("provider", "exotel");
        return;
      }
      agent_said_goodbye_ = true;
      end("transfer", "the agent transferred the call", message.transfer_to);
      return;
    case AgentMessage::Kind::transcript: {
      TranscriptEntry entry{start_.call_sid, "agent", message.role, message.text, "", WallClock::now()};
      spawn_task(
          provider_.get_executor(),
          [](std::shared_ptr<MediaGateway::Shared> shared, std::string lead_id,
             TranscriptEntry line) -> asio::awaitable<void> {
            auto stored = co_await shared->store.update_lead(lead_id, std::move(line));
            if (auto* error = std::get_if<store::StoreError>(&stored))
              LogLine(LogLevel::warn, "transcript_not_recorded")
                  .trusted_text("lead_id", lead_id)
                  .text("reason", error->message);
          }(shared_, lead_.id, std::move(entry)),
          "transcript line");
      return;
    }
    default:
      return;
  }
}

asio::awaitable<void> Bridge::watchdog() {
  while (!ending_) {
    watchdog_timer_.expires_after(kWatchdogEvery);
    co_await watchdog_timer_.async_wait(use_tuple);
    if (!ending_ && Clock::now() - last_heard_ > kProviderSilence) end("completed", "the provider went silent");
  }
}

asio::awaitable<void> Bridge::provider_reader() {
  beast::flat_buffer buffer;
  for (;;) {
    auto [error, bytes] = co_await provider_.async_read(buffer, use_tuple);
    last_heard_ = Clock::now();
    if (error) {
      end("completed", "the provider closed the stream");
      co_return;
    }
    if (!ending_) {
      const auto* data = static_cast<const char*>(buffer.data().data());
      on_provider_message(std::string_view(data, buffer.size()), Clock::now());
    }
    buffer.consume(buffer.size());
  }
}

asio::awaitable<void> Bridge::agent_reader() {
  beast::flat_buffer buffer;
  for (;;) {
    const auto error = co_await agent_->read(buffer);
    if (error) {
      if (!agent_said_goodbye_)
        end("agent_unavailable", "the agent closed its connection mid-call: " + error.message());
      co_return;
    }
    if (!ending_) {
      const auto* data = static_cast<const char*>(buffer.data().data());
      on_agent_message(std::string_view(data, buffer.size()), Clock::now());
    }
    buffer.consume(buffer.size());
  }
}

// One side's writer: sends what is queued, in order, one message at a time
// (a WebSocket takes one write at a time), until the stream ends and the
// queue is empty. write(text) returns the write's error.
template <class Write>
asio::awaitable<void> Bridge::write_out(Queue& queue, Write write, Histogram& delay, Counter& frames,
                                        std::string_view outcome_on_error) {
  for (;;) {
    while (!queue.items.empty()) {
      auto item = std::move(queue.items.front());
      queue.items.pop_front();
      if (item.audio) --queue.audio;
      queue.writing = true;
      queue.write_started = Clock::now();
      const auto error = co_await write(item.text);
      queue.writing = false;
      if (error) {
        queue.done = true;
        end(std::string(outcome_on_error), "cannot write to the " +
                                               std::string(&queue == &agent_out_ ? "agent" : "provider") + ": " +
                                               error.message());
        co_return;
      }
      delay.observe(std::chrono::duration<double>(Clock::now() - item.since).count());
      if (item.audio) frames.increment();
    }
    if (ending_) break;
    queue.wake.expires_at(Clock::time_point::max());
    co_await queue.wake.async_wait(use_tuple);
  }
  queue.done = true;
}

asio::awaitable<void> Bridge::provider_writer() {
  auto write = [this](const std::string& text) -> asio::awaitable<boost::system::error_code> {
    provider_.text(true);
    auto [error, written] = co_await provider_.async_write(asio::buffer(text), use_tuple);
    co_return error;
  };
  co_await write_out(provider_out_, write, delay_to_provider_, frames_to_provider_, "completed");
}

asio::awaitable<void> Bridge::agent_writer() {
  auto write = [this](const std::string& text) { return agent_->write(text); };
  co_await write_out(agent_out_, write, delay_to_agent_, frames_to_agent_, "agent_unavailable");
}

void Bridge::end(std::string outcome, std::string detail, std::string transfer_to) {
  if (ending_) return;
  // The stop tells the agent the caller is gone; it goes out before the close.
  if (outcome == "completed" && to_agent_ && agent_)
    agent_out_.items.push_back({to_agent_->stop(start_.account_sid, start_.call_sid), false, Clock::now()});
  ending_ = true;
  outcome_ = std::move(outcome);
  transfer_to_ = std::move(transfer_to);
  LogLine(outcome_ == "agent_unavailable" || outcome_ == "refused" ? LogLevel::warn : LogLevel::info,
          "media_stream_ended")
      .trusted_text("provider", provider_name())
      .trusted_text("lead_id", lead_.id)
      .text("call_sid", start_.call_sid)
      .trusted_text("outcome", outcome_)
      .text("detail", detail);
  provider_out_.wake.cancel();
  agent_out_.wake.cancel();
  flush_timer_.cancel();
  watchdog_timer_.cancel();
  // Whatever is still open after the grace is cut: nothing waits for ever.
  cut_timer_.expires_after(kClosingGrace);
  cut_timer_.async_wait([weak = weak_from_this()](boost::system::error_code error) {
    if (error) return;
    if (auto bridge = weak.lock()) bridge->cut_both();
  });
  if (agent_)
    spawn_task(
        provider_.get_executor(),
        [](std::shared_ptr<Bridge> self) -> asio::awaitable<void> { co_await self->closing(); }(shared_from_this()),
        "media stream closing");
}

void Bridge::cut_both() {
  boost::system::error_code ignored;
  provider_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  provider_.next_layer().cancel(ignored);
  if (agent_) agent_->cut();
}

// Plain functions for what coroutines store and count: GCC 12 destroys the
// temporaries of a braced initialization inside a coroutine twice.
MediaStreamEnd Bridge::stream_end() const { return MediaStreamEnd{claim_, WallClock::now(), outcome_, transfer_to_}; }

void Bridge::count_stream_end() {
  lane_.metrics->counter(shared_->ids.streams, {{"provider", std::string(provider_name())}, {"outcome", outcome_}})
      .increment();
}

void Bridge::count_recording(bool saved) {
  lane_.metrics->counter(shared_->ids.recordings, {{"outcome", saved ? "saved" : "failed"}}).increment();
}

Recording Bridge::finished_recording(const std::string& file) const {
  const auto now = WallClock::now();
  return Recording{"bridge-" + file_name_part(start_.stream_sid),
                   "bridge",
                   start_.call_sid,
                   "completed",
                   file,
                   "",
                   static_cast<std::int64_t>(recording_.duration_ms()),
                   2,
                   recording_.encoding() == RecordingEncoding::pcm16 ? "wav/pcm16" : "wav/mulaw",
                   "",
                   now - std::chrono::milliseconds(recording_.duration_ms()),
                   now};
}

asio::awaitable<void> Bridge::record_end() {
  auto recorded = co_await shared_->store.update_lead(lead_.id, stream_end());
  if (auto* error = std::get_if<store::StoreError>(&recorded))
    LogLine(LogLevel::error, "media_stream_end_not_recorded")
        .trusted_text("lead_id", lead_.id)
        .text("reason", error->message);
  count_stream_end();
}

asio::awaitable<void> Bridge::closing() {
  // Kept on the lead before the provider hears the stream is over: the call
  // flow it asks for next (fallback, hang-up, transfer) is read from there.
  co_await record_end();
  asio::steady_timer pause(provider_.get_executor());
  for (int waited = 0; waited < 100 && agent_ && !(agent_out_.done && provider_out_.done); ++waited) {
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(use_tuple);
  }
  if (agent_) co_await agent_->close();
  if (provider_.is_open()) {
    const auto code = outcome_ == "refused" ? websocket::close_code::policy_error : websocket::close_code::normal;
    co_await provider_.async_close(code, use_tuple);
  }
}

asio::awaitable<void> Bridge::keep_recording() {
  if (!file_) co_return;
  recording_.take(file_->block());
  const auto frames = recording_.frames();
  auto file = std::move(file_);
  if (frames == 0) {
    file->abandon();
    co_return;
  }
  auto* raw = file.get();
  auto finished = co_await run_on(shared_->disk, [raw, frames] { return raw->finish(frames); });
  const bool saved = finished.index() == 0;
  count_recording(saved);
  if (!saved) {
    LogLine(LogLevel::error, "recording_not_saved")
        .trusted_text("lead_id", lead_.id)
        .text("reason", std::get<1>(finished));
    co_return;
  }
  auto stored = co_await shared_->store.update_lead(lead_.id, finished_recording(std::get<0>(finished)));
  if (auto* error = std::get_if<store::StoreError>(&stored))
    LogLine(LogLevel::error, "recording_not_listed").trusted_text("lead_id", lead_.id).text("reason", error->message);
}

}  // namespace

asio::awaitable<void> serve_media_stream(std::shared_ptr<MediaGateway::Shared> shared, StreamFormat format,
                                         std::shared_ptr<const Config> config, std::shared_ptr<void> reservation,
                                         asio::ip::tcp::socket& socket, http::Request request) {
  const auto* lane = shared->lane_for(static_cast<asio::io_context&>(socket.get_executor().context()));
  if (lane == nullptr) co_return;
  auto bridge = std::make_shared<Bridge>(shared, format, std::move(config), socket, *lane);
  co_await bridge->run(std::move(request));
  reservation.reset();  // held to here: the stream counts against voice.max_streams until it is over
}

}  // namespace callgate::voice
