// The messages of a media stream, on each of its two sides. Pure: text in,
// values out, and back.
//
// Provider side: Twilio Media Streams (µ-law, camelCase, sequence numbers
// as strings) or Exotel's Voicebot stream (16-bit little-endian PCM,
// snake_case, numbers either way; its own samples also say streamSid, so
// both spellings are read).
// Agent side: Twilio's format whatever the provider, so an agent written for
// Twilio works unchanged; plus a small control vocabulary the agent may send
// (hangup, transfer, transcript).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace callgate::voice {

enum class StreamFormat { twilio, exotel };
std::string_view to_string(StreamFormat format);

struct StreamStart {
  std::string stream_sid;
  std::string call_sid;
  std::string account_sid;
  std::string from;
  std::string to;
  std::vector<std::pair<std::string, std::string>> custom_parameters;
  std::string encoding;  // as the provider named it
  unsigned sample_rate = 8000;
  std::optional<std::string> parameter(std::string_view name) const;
};

struct ProviderMessage {
  enum class Kind { connected, start, media, dtmf, mark, stop, other };
  Kind kind = Kind::other;
  std::string stream_sid;
  StreamStart start;               // start
  std::uint64_t timestamp_ms = 0;  // media: since the stream began
  std::string audio;               // media: decoded payload (µ-law for Twilio, PCM for Exotel)
  std::string digit;               // dtmf
  std::string mark_name;           // mark
};

// Why a message could not be read; the stream is closed with it.
struct MessageError {
  std::string message;
};

// At most this much audio per message either way (a second of 16-bit PCM
// at 24 kHz, Exotel's highest rate, and then some): larger is refused.
inline constexpr std::size_t kMaxAudioBytesPerMessage = 100'000;

std::variant<ProviderMessage, MessageError> parse_provider_message(StreamFormat format, std::string_view text);

// ---- Toward the agent (Twilio's format) ----

struct AgentStartContext {
  std::string stream_sid;
  std::string call_sid;
  std::string account_sid;
  std::string provider;                                                // "twilio", "exotel"
  std::vector<std::pair<std::string, std::string>> custom_parameters;  // leadId, leadName, ...
};

class AgentMessageWriter {
 public:
  explicit AgentMessageWriter(std::string stream_sid) : stream_sid_(std::move(stream_sid)) {}
  std::string connected();
  std::string start(const AgentStartContext& context);
  // mulaw: 8 kHz µ-law, any length; timestamp_ms since the stream began.
  std::string media(std::uint64_t timestamp_ms, std::string_view mulaw);
  std::string dtmf(std::string_view digit);
  std::string mark(std::string_view name);
  std::string stop(std::string_view account_sid, std::string_view call_sid);

 private:
  std::string next_sequence() { return std::to_string(++sequence_); }
  std::string stream_sid_;
  std::uint64_t sequence_ = 0;
  std::uint64_t chunk_ = 0;
};

// ---- From the agent ----

struct AgentMessage {
  enum class Kind { media, mark, clear, hangup, transfer, transcript, other };
  Kind kind = Kind::other;
  std::string audio;        // media: µ-law
  std::string mark_name;    // mark
  std::string transfer_to;  // transfer: E.164
  std::string role;         // transcript: agent | caller
  std::string text;         // transcript
};
std::variant<AgentMessage, MessageError> parse_agent_message(std::string_view text);

// ---- Toward the provider ----

std::string provider_media(StreamFormat format, std::string_view stream_sid, std::string_view audio);
std::string provider_mark(StreamFormat format, std::string_view stream_sid, std::string_view name);
std::string provider_clear(StreamFormat format, std::string_view stream_sid);

// Exotel plays audio sent back in chunks of a multiple of 320 bytes, 3.2 KB
// to 100 KB: the agent's 20 ms frames are gathered until a chunk is due.
class ExotelChunker {
 public:
  static constexpr std::size_t kUnit = 320;
  static constexpr std::size_t kMinimum = 3'200;
  static constexpr std::size_t kMaximum = 99'840;  // the largest multiple of 320 within 100 KB

  // Adds PCM; returns the chunks now due (each a multiple of kUnit, at least kMinimum).
  std::vector<std::string> add(std::string_view pcm);
  // What is held, padded with silence to a whole chunk (for a mark, a pause,
  // the end); nothing when nothing is held.
  std::optional<std::string> flush();
  void clear() { pending_.clear(); }
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  std::string pending_;
};

}  // namespace callgate::voice
