#include "core/voice/stream_messages.hpp"

#include "core/crypto.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace callgate::voice {

namespace json = boost::json;

namespace {

const json::value* member(const json::object& object, std::string_view name) {
  const auto found = object.find(name);
  return found == object.end() ? nullptr : &found->value();
}

// One of two spellings (Exotel's samples use both).
const json::value* member(const json::object& object, std::string_view name, std::string_view other) {
  const auto* value = member(object, name);
  return value ? value : member(object, other);
}

std::string text_of(const json::value* value) {
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_int64()) return std::to_string(value->get_int64());
  if (value->is_uint64()) return std::to_string(value->get_uint64());
  return {};
}

// A number sent as a number or as a string of digits.
std::optional<std::uint64_t> number_of(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_uint64()) return value->get_uint64();
  if (value->is_int64())
    return value->get_int64() >= 0 ? std::optional<std::uint64_t>(value->get_int64()) : std::nullopt;
  if (!value->is_string()) return std::nullopt;
  const auto& text = value->get_string();
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return number;
}

const json::object* object_of(const json::value* value) {
  return value && value->is_object() ? &value->get_object() : nullptr;
}

std::optional<std::string> decode_payload(const json::value* value, std::string& error) {
  if (value == nullptr || !value->is_string()) {
    error = "media without a payload";
    return std::nullopt;
  }
  const auto& text = value->get_string();
  if (text.size() > kMaxAudioBytesPerMessage / 3 * 4 + 4) {
    error = "media payload larger than " + std::to_string(kMaxAudioBytesPerMessage) + " bytes";
    return std::nullopt;
  }
  auto audio = base64_decode(std::string_view(text.data(), text.size()));
  if (!audio) error = "media payload is not base64";
  return audio;
}

// A message is read into a tree on the caller's stack (storage), not the
// heap: fifty of them a second each way on every call.
std::variant<json::value, MessageError> parse_object(std::string_view text, json::storage_ptr storage) {
  boost::system::error_code error;
  auto value = json::parse(text, error, std::move(storage));
  if (error || !value.is_object()) return MessageError{"not a JSON object"};
  return value;
}

}  // namespace

std::string_view to_string(StreamFormat format) { return format == StreamFormat::twilio ? "twilio" : "exotel"; }

std::optional<std::string> StreamStart::parameter(std::string_view name) const {
  for (const auto& [key, value] : custom_parameters)
    if (key == name) return value;
  return std::nullopt;
}

std::variant<ProviderMessage, MessageError> parse_provider_message(StreamFormat format, std::string_view text) {
  unsigned char scratch[4096];
  json::monotonic_resource resource(scratch, sizeof scratch);
  auto parsed = parse_object(text, &resource);
  if (auto* error = std::get_if<MessageError>(&parsed)) return *error;
  const auto& object = std::get<json::value>(parsed).get_object();
  const bool exotel = format == StreamFormat::exotel;
  ProviderMessage message;
  message.stream_sid = text_of(member(object, "streamSid", "stream_sid"));
  const auto event = text_of(member(object, "event"));
  if (event == "connected") {
    message.kind = ProviderMessage::Kind::connected;
  } else if (event == "start") {
    message.kind = ProviderMessage::Kind::start;
    const auto* start = object_of(member(object, "start"));
    if (start == nullptr) return MessageError{"start without its start object"};
    auto& s = message.start;
    s.stream_sid = text_of(member(*start, "streamSid", "stream_sid"));
    if (s.stream_sid.empty()) s.stream_sid = message.stream_sid;
    if (message.stream_sid.empty()) message.stream_sid = s.stream_sid;
    s.call_sid = text_of(member(*start, "callSid", "call_sid"));
    s.account_sid = text_of(member(*start, "accountSid", "account_sid"));
    s.from = text_of(member(*start, "from"));
    s.to = text_of(member(*start, "to"));
    if (const auto* parameters = object_of(member(*start, "customParameters", "custom_parameters")))
      for (const auto& [key, value] : *parameters) s.custom_parameters.emplace_back(std::string(key), text_of(&value));
    if (const auto* media_format = object_of(member(*start, "mediaFormat", "media_format"))) {
      s.encoding = text_of(member(*media_format, "encoding"));
      if (auto rate = number_of(member(*media_format, "sampleRate", "sample_rate")))
        s.sample_rate = static_cast<unsigned>(std::min<std::uint64_t>(*rate, 1'000'000));
    }
    if (s.call_sid.empty()) return MessageError{"start without a call sid"};
    if (s.stream_sid.empty()) return MessageError{"start without a stream sid"};
  } else if (event == "media") {
    message.kind = ProviderMessage::Kind::media;
    const auto* media = object_of(member(object, "media"));
    if (media == nullptr) return MessageError{"media without its media object"};
    // Twilio's stream has one track toward us; a second (both_tracks) is not the caller's.
    const auto track = text_of(member(*media, "track"));
    if (!track.empty() && track != "inbound") message.kind = ProviderMessage::Kind::other;
    const auto timestamp = number_of(member(*media, "timestamp"));
    if (!timestamp) return MessageError{"media without a timestamp"};
    message.timestamp_ms = *timestamp;
    std::string error;
    auto audio = decode_payload(member(*media, "payload"), error);
    if (!audio) return MessageError{error};
    if (exotel && audio->size() % 2 != 0) return MessageError{"16-bit PCM payload of an odd number of bytes"};
    message.audio = std::move(*audio);
  } else if (event == "dtmf") {
    message.kind = ProviderMessage::Kind::dtmf;
    const auto* dtmf = object_of(member(object, "dtmf"));
    message.digit = dtmf ? text_of(member(*dtmf, "digit")) : std::string();
    if (message.digit.size() != 1) return MessageError{"dtmf without a single digit"};
  } else if (event == "mark") {
    message.kind = ProviderMessage::Kind::mark;
    const auto* mark = object_of(member(object, "mark"));
    message.mark_name = mark ? text_of(member(*mark, "name")) : std::string();
  } else if (event == "stop") {
    message.kind = ProviderMessage::Kind::stop;
  } else if (event.empty()) {
    return MessageError{"a message without an event"};
  }
  return message;
}

std::string AgentMessageWriter::connected() { return R"({"event":"connected","protocol":"Call","version":"1.0.0"})"; }

std::string AgentMessageWriter::start(const AgentStartContext& context) {
  json::object parameters;
  for (const auto& [key, value] : context.custom_parameters) parameters[key] = value;
  json::object start{
      {"streamSid", stream_sid_},
      {"accountSid", context.account_sid},
      {"callSid", context.call_sid},
      {"tracks", json::array{"inbound"}},
      {"mediaFormat", json::object{{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
      {"customParameters", std::move(parameters)}};
  json::object message{{"event", "start"}, {"sequenceNumber", next_sequence()}, {"streamSid", stream_sid_}};
  message["start"] = std::move(start);
  return json::serialize(message);
}

std::string AgentMessageWriter::media(std::uint64_t timestamp_ms, std::string_view mulaw) {
  // Built by hand: one of these goes out every 20 ms of every call.
  std::string out = R"({"event":"media","sequenceNumber":")";
  out += next_sequence();
  out += R"(","streamSid":)";
  out += json::serialize(json::string(stream_sid_));
  out += R"(,"media":{"track":"inbound","chunk":")";
  out += std::to_string(++chunk_);
  out += R"(","timestamp":")";
  out += std::to_string(timestamp_ms);
  out += R"(","payload":")";
  out += base64_encode(mulaw);
  out += R"("}})";
  return out;
}

std::string AgentMessageWriter::dtmf(std::string_view digit) {
  json::object message{{"event", "dtmf"}, {"sequenceNumber", next_sequence()}, {"streamSid", stream_sid_}};
  message["dtmf"] = json::object{{"track", "inbound_track"}, {"digit", digit}};
  return json::serialize(message);
}

std::string AgentMessageWriter::mark(std::string_view name) {
  json::object message{{"event", "mark"}, {"sequenceNumber", next_sequence()}, {"streamSid", stream_sid_}};
  message["mark"] = json::object{{"name", name}};
  return json::serialize(message);
}

std::string AgentMessageWriter::stop(std::string_view account_sid, std::string_view call_sid) {
  json::object message{{"event", "stop"}, {"sequenceNumber", next_sequence()}, {"streamSid", stream_sid_}};
  message["stop"] = json::object{{"accountSid", account_sid}, {"callSid", call_sid}};
  return json::serialize(message);
}

std::variant<AgentMessage, MessageError> parse_agent_message(std::string_view text) {
  unsigned char scratch[4096];
  json::monotonic_resource resource(scratch, sizeof scratch);
  auto parsed = parse_object(text, &resource);
  if (auto* error = std::get_if<MessageError>(&parsed)) return *error;
  const auto& object = std::get<json::value>(parsed).get_object();
  AgentMessage message;
  const auto event = text_of(member(object, "event"));
  if (event == "media") {
    message.kind = AgentMessage::Kind::media;
    const auto* media = object_of(member(object, "media"));
    if (media == nullptr) return MessageError{"media without its media object"};
    std::string error;
    auto audio = decode_payload(member(*media, "payload"), error);
    if (!audio) return MessageError{error};
    message.audio = std::move(*audio);
  } else if (event == "mark") {
    message.kind = AgentMessage::Kind::mark;
    const auto* mark = object_of(member(object, "mark"));
    message.mark_name = mark ? text_of(member(*mark, "name")) : std::string();
    if (message.mark_name.empty() || message.mark_name.size() > 256)
      return MessageError{"mark without a name (or one over 256 bytes)"};
  } else if (event == "clear") {
    message.kind = AgentMessage::Kind::clear;
  } else if (event == "hangup") {
    message.kind = AgentMessage::Kind::hangup;
  } else if (event == "transfer") {
    message.kind = AgentMessage::Kind::transfer;
    message.transfer_to = text_of(member(object, "to"));
    const bool e164 = message.transfer_to.size() >= 8 && message.transfer_to.size() <= 16 &&
                      message.transfer_to[0] == '+' &&
                      message.transfer_to.find_first_not_of("0123456789", 1) == std::string::npos;
    if (!e164) return MessageError{"transfer needs \"to\" in E.164 (+ and 7 to 15 digits)"};
  } else if (event == "transcript") {
    message.kind = AgentMessage::Kind::transcript;
    message.role = text_of(member(object, "role"));
    message.text = text_of(member(object, "text"));
    if (message.role != "agent" && message.role != "caller")
      return MessageError{"transcript role must be agent or caller"};
    if (message.text.empty() || message.text.size() > 4096)
      return MessageError{"transcript text must be 1 to 4096 bytes"};
  } else if (event.empty()) {
    return MessageError{"a message without an event"};
  }
  return message;
}

std::string provider_media(StreamFormat format, std::string_view stream_sid, std::string_view audio) {
  std::string out = R"({"event":"media",")";
  out += format == StreamFormat::twilio ? "streamSid" : "stream_sid";
  out += R"(":)";
  out += json::serialize(json::string(stream_sid));
  out += R"(,"media":{"payload":")";
  out += base64_encode(audio);
  out += R"("}})";
  return out;
}

std::string provider_mark(StreamFormat format, std::string_view stream_sid, std::string_view name) {
  json::object message{{"event", "mark"}, {format == StreamFormat::twilio ? "streamSid" : "stream_sid", stream_sid}};
  message["mark"] = json::object{{"name", name}};
  return json::serialize(message);
}

std::string provider_clear(StreamFormat format, std::string_view stream_sid) {
  return json::serialize(
      json::object{{"event", "clear"}, {format == StreamFormat::twilio ? "streamSid" : "stream_sid", stream_sid}});
}

std::vector<std::string> ExotelChunker::add(std::string_view pcm) {
  pending_.append(pcm);
  std::vector<std::string> chunks;
  while (pending_.size() >= kMinimum) {
    const std::size_t size = std::min(pending_.size() / kUnit * kUnit, kMaximum);
    chunks.push_back(pending_.substr(0, size));
    pending_.erase(0, size);
  }
  return chunks;
}

std::optional<std::string> ExotelChunker::flush() {
  if (pending_.empty()) return std::nullopt;
  std::string chunk = std::move(pending_);
  pending_.clear();
  const std::size_t padded = std::max(kMinimum, (chunk.size() + kUnit - 1) / kUnit * kUnit);
  chunk.resize(padded, '\0');  // 16-bit silence
  return chunk;
}

}  // namespace callgate::voice
