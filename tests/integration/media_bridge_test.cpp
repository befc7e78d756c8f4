// The media bridge end to end: the real daemon places a call at a fake
// Twilio (real TLS), serves the call flow with its stream token, and takes
// the media stream from a fake provider client that plays real speech
// (espeak-ng, converted by sox to 8 kHz µ-law) at real-time pacing; the
// bridge relays it to a fake voice agent and back, and records both sides.
// Every message each side received is checked, in order; the recording is
// fetched over HTTP and measured with sox. Then what is refused, and what
// a call gets when the agent is not there.
#include "fake_twilio_account.hpp"
#include "fake_voice_agent.hpp"
#include "lead_flow_support.hpp"
#include "loopback_port.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <regex>

#include <sys/stat.h>

namespace callgate {

using namespace lead_flow;
using testing::base64;
using testing::FakeTwilioAccount;
using testing::FakeVoiceAgent;

namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kAccountSid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kUtterance = "Hello, I would like to know more about your home loans.";
constexpr std::size_t kFrameBytes = 160;  // 20 ms of 8 kHz µ-law

// Runs a shell command; its standard output, and fails the test when it fails.
std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe, "cannot run " << command);
  char chunk[4096];
  while (auto got = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, got);
  const int status = ::pclose(pipe);
  BOOST_REQUIRE_MESSAGE(status == 0, command << " failed (" << status << "): " << output
                                             << " (scripts/setup installs espeak-ng and sox)");
  return output;
}

struct Speech {
  std::string mulaw;  // the utterance, 8 kHz µ-law
  std::string pcm;    // the same, 16-bit little-endian (Exotel's)
  std::string tone;   // the agent's reply: half a second of 440 Hz, µ-law
};

const Speech& speech(const TemporaryDirectory& directory) {
  static const Speech made = [&] {
    Speech s;
    const auto wav = directory.file("said.wav");
    run("espeak-ng -w " + wav + " '" + kUtterance + "'");
    run("sox " + wav + " -r 8000 -c 1 -e mu-law -t raw " + directory.file("said.ulaw"));
    run("sox " + wav + " -r 8000 -c 1 -e signed -b 16 -L -t raw " + directory.file("said.s16"));
    run("sox -n -r 8000 -c 1 -e mu-law -t raw " + directory.file("tone.ulaw") + " synth 0.5 sine 440 vol 0.5");
    s.mulaw = read_file(directory.file("said.ulaw"));
    s.pcm = read_file(directory.file("said.s16"));
    s.tone = read_file(directory.file("tone.ulaw"));
    s.mulaw.resize(s.mulaw.size() / kFrameBytes * kFrameBytes);
    s.pcm.resize(s.mulaw.size() * 2);
    return s;
  }();
  return made;
}

boost::json::object parse(const std::string& text) { return boost::json::parse(text).as_object(); }
std::string text(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : boost::json::serialize(value);
}

std::string media_config(unsigned short agent_port, const TemporaryDirectory& directory,
                         const std::string& extra_voice = "") {
  return "call_flow:\n  next: stream\n"
         "voice:\n"
         "  agent:\n    url: \"ws://127.0.0.1:" +
         std::to_string(agent_port) +
         "/agent\"\n    connect_timeout: 1s\n"
         "  start_timeout: 1s\n"
         "  recordings_path: \"" +
         directory.file("recordings") +
         "\"\n"
         "  consent_notice: \"This call is recorded.\"\n"
         "  fallback_say: \"Sorry, please expect our call again.\"\n"
         "  exotel:\n    username: exo\n    password: exo-secret\n" +
         extra_voice + kFastDialer;
}

// A call placed through the daemon, and the stream token its call flow carries.
struct PlacedCall {
  std::string lead_id;
  std::string call_sid;
  std::string token;
  std::string twiml;
};

PlacedCall place_call(unsigned short port, const std::string& phone) {
  PlacedCall call;
  call.lead_id = lead_id_of(enquire(port, R"({"phone":")" + phone + R"(","consent":true,"name":"Asha"})"));
  for (int tries = 0; tries < 250 && call.call_sid.empty(); ++tries, std::this_thread::sleep_for(20ms)) {
    const auto lead = get_lead(port, call.lead_id);
    const auto& attempts = lead.at("attempts").as_array();
    if (!attempts.empty()) call.call_sid = text(attempts[0].at("callSid"));
  }
  BOOST_REQUIRE_MESSAGE(!call.call_sid.empty(), "the call was not placed");
  const http::FormFields fields{{"AccountSid", kAccountSid}, {"CallSid", call.call_sid}, {"CallStatus", "in-progress"}};
  const std::string target = "/twiml?leadId=" + call.lead_id;
  const auto body = http::encode_form(fields);
  const auto answer =
      send(port, "POST", target,
           "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
               providers::twilio::compute_signature(kAuthToken, std::string(kPublicBase) + target, fields) + "\r\n",
           body);
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.status << " " << answer.body);
  call.twiml = answer.body;
  std::smatch found;
  BOOST_REQUIRE_MESSAGE(std::regex_search(call.twiml, found, std::regex(R"re(name="token" value="([^"]+)")re")),
                        "no token in " << call.twiml);
  call.token = found[1];
  return call;
}

// What Twilio's side of a stream would do: connect (signed, or with
// Basic credentials for Exotel), send, read everything that comes back, and
// echo each mark once the audio before it has played.
class ProviderClient {
 public:
  ProviderClient(unsigned short port, const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& headers)
      : ws_(io_) {
    tcp::resolver resolver(io_);
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers) request.set(name, value);
    }));
    ws_.handshake("gw.example.test", path);
    reader_ = std::thread([this] { read_all(); });
  }
  ~ProviderClient() {
    boost::system::error_code ignored;
    ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    if (reader_.joinable()) reader_.join();
  }

  void send(const std::string& message) {
    std::lock_guard lock(write_mutex_);
    ws_.text(true);
    boost::system::error_code error;
    ws_.write(asio::buffer(message), error);
  }

  bool wait_closed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return closed_; });
  }
  std::vector<std::string> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  websocket::close_reason close_reason() {
    std::lock_guard lock(mutex_);
    return reason_;
  }
  std::string mark_field = "streamSid";  // Exotel: stream_sid

 private:
  void read_all() {
    Clock::time_point played_until = Clock::now();
    for (;;) {
      boost::beast::flat_buffer buffer;
      boost::system::error_code error;
      ws_.read(buffer, error);
      if (error) break;
      const auto message = boost::beast::buffers_to_string(buffer.data());
      {
        std::lock_guard lock(mutex_);
        received_.push_back(message);
      }
      const auto object = parse(message);
      const auto event = text(object.at("event"));
      if (event == "media") {
        // Played in real time after whatever is still playing.
        const auto bytes = text(object.at("media").at("payload")).size() / 4 * 3;
        const auto per_byte =
            mark_field == "streamSid" ? std::chrono::microseconds(125) : std::chrono::microseconds(62);
        played_until = std::max(played_until, Clock::now()) + per_byte * static_cast<long>(bytes);
      } else if (event == "mark") {
        std::this_thread::sleep_until(played_until);
        boost::json::object echo{{"event", "mark"}, {mark_field, text(object.at(mark_field))}};
        echo["mark"] = object.at("mark");
        send(boost::json::serialize(echo));
      }
    }
    std::lock_guard lock(mutex_);
    reason_ = ws_.reason();
    closed_ = true;
    changed_.notify_all();
  }

  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  std::thread reader_;
  std::mutex write_mutex_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> received_;
  websocket::close_reason reason_;
  bool closed_ = false;
};

std::vector<std::pair<std::string, std::string>> twilio_signed() {
  return {{"X-Twilio-Signature",
           providers::twilio::compute_signature(kAuthToken, "wss://gw.example.test/media/twilio", {})}};
}

std::string twilio_start(const PlacedCall& call, const std::string& stream_sid, const std::string& token) {
  boost::json::object start{{"event", "start"}, {"sequenceNumber", "1"}, {"streamSid", stream_sid}};
  start["start"] = boost::json::object{
      {"accountSid", kAccountSid},
      {"streamSid", stream_sid},
      {"callSid", call.call_sid},
      {"tracks", boost::json::array{"inbound"}},
      {"mediaFormat", boost::json::object{{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
      {"customParameters", boost::json::object{{"leadId", call.lead_id}, {"token", token}}}};
  return boost::json::serialize(start);
}

std::string twilio_media(const std::string& stream_sid, std::size_t index, std::string_view frame) {
  boost::json::object media{
      {"event", "media"}, {"sequenceNumber", std::to_string(index + 2)}, {"streamSid", stream_sid}};
  media["media"] = boost::json::object{{"track", "inbound"},
                                       {"chunk", std::to_string(index + 1)},
                                       {"timestamp", std::to_string(index * 20)},
                                       {"payload", base64(frame)}};
  return boost::json::serialize(media);
}

// Sends frames of audio at real-time pacing (one each 20 ms).
template <class Frame>
void play(ProviderClient& client, std::size_t frames, Frame frame) {
  const auto start = Clock::now();
  for (std::size_t index = 0; index < frames; ++index) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(20) * index);
    client.send(frame(index));
  }
}

// The RMS amplitude (0..1) of one channel of a WAV between two times, by sox.
double rms(const std::string& wav, int channel, double from, double length) {
  const auto output = run("sox " + wav + " -n remix " + std::to_string(channel) + " trim " + std::to_string(from) +
                          " " + std::to_string(length) + " stat");
  std::smatch found;
  BOOST_REQUIRE_MESSAGE(std::regex_search(output, found, std::regex(R"(RMS\s+amplitude:\s+([0-9.]+))")), output);
  return std::stod(found[1]);
}

std::vector<std::string> events_of(const std::vector<std::string>& messages) {
  std::vector<std::string> events;
  for (const auto& message : messages) events.push_back(text(parse(message).at("event")));
  return events;
}

boost::json::object wait_for_stream_end(unsigned short port, const std::string& lead_id) {
  boost::json::object lead;
  for (int tries = 0; tries < 250; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(port, lead_id);
    const auto& streams = lead.at("mediaStreams").as_array();
    if (!streams.empty() && streams[0].as_object().contains("endedAt") && !lead.at("recordings").as_array().empty())
      return lead;
  }
  return lead;
}

std::string exotel_start(const PlacedCall& call, const std::string& stream_sid) {
  boost::json::object start{{"event", "start"}, {"sequence_number", 1}, {"stream_sid", stream_sid}};
  start["start"] = boost::json::object{
      {"stream_sid", stream_sid},
      {"call_sid", call.call_sid},
      {"account_sid", "exotel-account"},
      {"from", "09876543210"},
      {"to", "08012345678"},
      {"custom_parameters", boost::json::object{}},
      {"media_format", boost::json::object{{"encoding", "base64"}, {"sample_rate", "8000"}, {"bit_rate", "128kbps"}}}};
  return boost::json::serialize(start);
}

std::string exotel_media(const std::string& stream_sid, std::size_t index, std::string_view pcm) {
  boost::json::object media{{"event", "media"}, {"sequence_number", index + 2}, {"stream_sid", stream_sid}};
  media["media"] =
      boost::json::object{{"chunk", index + 1}, {"timestamp", std::to_string(index * 20)}, {"payload", base64(pcm)}};
  return boost::json::serialize(media);
}

std::vector<std::pair<std::string, std::string>> exotel_credentials(const std::string& password = "exo-secret") {
  return {{"Authorization", "Basic " + base64("exo:" + password)}};
}

// The status of a raw upgrade request to path with extra headers.
unsigned upgrade_status(unsigned short port, const std::string& path, const std::string& headers) {
  testing::Connection connection(port);
  connection.send("GET " + path +
                  " HTTP/1.1\r\nHost: gw.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                  headers + "\r\n");
  auto raw = connection.read_response();
  BOOST_REQUIRE_MESSAGE(raw.has_value(), "no answer to the upgrade");
  return testing::parse_response(*raw).status;
}

// Posts a signed status callback for the call.
void call_status(unsigned short port, const PlacedCall& call, const std::string& status, int sequence) {
  testing::Connection connection(port);
  BOOST_TEST(post_callback(connection, call.lead_id, callback(call.call_sid, status, sequence)) == 204);
}

// What Twilio's <Connect action> gets once the stream ended.
std::string stream_ended(unsigned short port, const PlacedCall& call) {
  const http::FormFields fields{{"AccountSid", kAccountSid}, {"CallSid", call.call_sid}, {"CallStatus", "in-progress"}};
  const std::string target = "/twiml/stream-ended?leadId=" + call.lead_id;
  const auto answer =
      send(port, "POST", target,
           "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
               providers::twilio::compute_signature(kAuthToken, std::string(kPublicBase) + target, fields) + "\r\n",
           http::encode_form(fields));
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.status << " " << answer.body);
  return answer.body;
}

std::size_t wait_for_calls(const FakeTwilioAccount& account, const std::string& number, std::size_t count) {
  for (int tries = 0; tries < 400 && account.calls_to(number) < count; ++tries) std::this_thread::sleep_for(20ms);
  return account.calls_to(number);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(media_bridge)

BOOST_AUTO_TEST_CASE(a_twilio_call_is_bridged_to_the_agent_both_ways_and_recorded_in_stereo) {
  TemporaryDirectory directory;
  const auto& said = speech(directory);
  const std::size_t speech_frames = said.mulaw.size() / kFrameBytes;
  const std::size_t silence_frames = 50;  // a second in which the agent answers
  FakeVoiceAgent::Script script;
  script.reply_after_frames = speech_frames;
  script.reply_mulaw = said.tone;
  script.after_start = {R"({"event":"transcript","role":"agent","text":"Hi Asha"})"};
  FakeVoiceAgent agent(script);
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory)));
  const auto call = place_call(daemon.port(), "+919876543210");
  // The call flow: the notice, then the stream to callgate with the lead and its token.
  BOOST_TEST(call.twiml.find("<Say>This call is recorded.</Say><Connect action=\"https://gw.example.test/twiml/"
                             "stream-ended?leadId=" +
                             call.lead_id + "\" method=\"POST\"><Stream url=\"wss://gw.example.test/media/twilio\">") !=
             std::string::npos);

  const std::string stream_sid = "MZ00000000000000000000000000000001";
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  client.send(twilio_start(call, stream_sid, call.token));
  std::vector<std::string> frames;
  for (std::size_t index = 0; index < speech_frames + silence_frames; ++index)
    frames.push_back(index < speech_frames ? said.mulaw.substr(index * kFrameBytes, kFrameBytes)
                                           : std::string(kFrameBytes, '\xFF'));
  play(client, frames.size(), [&](std::size_t index) { return twilio_media(stream_sid, index, frames[index]); });
  client.send(R"({"event":"stop","sequenceNumber":"999","streamSid":")" + stream_sid + R"(","stop":{}})");
  BOOST_TEST_REQUIRE(client.wait_closed(5s));
  BOOST_TEST_REQUIRE(agent.wait_until_closed(0, 5s));

  // The agent heard connected, start (the lead's context, no token), every
  // frame in order with its own payload and time, the played mark, and stop.
  const auto heard = agent.received();
  const auto heard_events = events_of(heard);
  BOOST_TEST_REQUIRE(heard.size() == 2 + frames.size() + 1 + 1);
  BOOST_TEST(heard_events.front() == "connected");
  BOOST_TEST(heard_events[1] == "start");
  BOOST_TEST(heard_events.back() == "stop");
  const auto start = parse(heard[1]);
  const auto& parameters = start.at("start").at("customParameters").as_object();
  BOOST_TEST(text(parameters.at("leadId")) == call.lead_id);
  BOOST_TEST(text(parameters.at("leadName")) == "Asha");
  BOOST_TEST(text(parameters.at("direction")) == "outbound");
  BOOST_TEST(!parameters.contains("token"));
  BOOST_TEST(text(start.at("start").at("callSid")) == call.call_sid);
  std::size_t media_seen = 0;
  std::size_t marks_seen = 0;
  for (std::size_t index = 2; index + 1 < heard.size(); ++index) {
    const auto message = parse(heard[index]);
    if (text(message.at("event")) == "mark") {
      BOOST_TEST(text(message.at("mark").at("name")) == "reply-end");
      BOOST_TEST(media_seen >= speech_frames);  // echoed after the reply played, which followed the speech
      ++marks_seen;
      continue;
    }
    BOOST_TEST_REQUIRE(text(message.at("event")) == "media");
    BOOST_TEST(text(message.at("media").at("payload")) == base64(frames[media_seen]));
    BOOST_TEST(text(message.at("media").at("timestamp")) == std::to_string(media_seen * 20));
    ++media_seen;
  }
  BOOST_TEST(media_seen == frames.size());
  BOOST_TEST(marks_seen == 1u);

  // The provider got the agent's reply, every frame, then the mark, then the clear.
  const auto got = client.received();
  const auto got_events = events_of(got);
  const std::size_t reply_frames = said.tone.size() / kFrameBytes;
  BOOST_TEST_REQUIRE(got.size() == reply_frames + 2);
  for (std::size_t index = 0; index < reply_frames; ++index) {
    const auto message = parse(got[index]);
    BOOST_TEST(text(message.at("streamSid")) == stream_sid);
    BOOST_TEST(text(message.at("media").at("payload")) == base64(said.tone.substr(index * kFrameBytes, kFrameBytes)));
  }
  BOOST_TEST(got_events[reply_frames] == "mark");
  BOOST_TEST(got_events[reply_frames + 1] == "clear");

  // The lead keeps the stream, the agent's transcript line and the recording.
  const auto lead = wait_for_stream_end(daemon.port(), call.lead_id);
  const auto& stream = lead.at("mediaStreams").at(0).as_object();
  BOOST_TEST(text(stream.at("outcome")) == "completed");
  BOOST_TEST(text(stream.at("streamSid")) == stream_sid);
  BOOST_TEST(text(lead.at("transcript").at(0).at("text")) == "Hi Asha");
  BOOST_TEST_REQUIRE(lead.at("recordings").as_array().size() == 1u);
  const auto& recording = lead.at("recordings").at(0).as_object();
  BOOST_TEST(text(recording.at("source")) == "bridge");
  BOOST_TEST(recording.at("channels").to_number<int>() == 2);
  const auto duration_ms = recording.at("durationMs").to_number<std::int64_t>();
  BOOST_TEST(std::abs(duration_ms - static_cast<std::int64_t>(frames.size() * 20)) <= 20);

  // Served to the admin only, whole or by range.
  BOOST_TEST(send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1", "").status == 401);
  BOOST_TEST(send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/2", kAdmin).status == 404);
  const auto whole = send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1", kAdmin);
  BOOST_TEST_REQUIRE(whole.status == 200);
  BOOST_TEST(whole.body.size() == 44 + frames.size() * kFrameBytes * 4);
  const auto part = send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1",
                         std::string(kAdmin) + "Range: bytes=0-11\r\n");
  BOOST_TEST(part.status == 206);
  BOOST_TEST(part.body == whole.body.substr(0, 12));
  BOOST_TEST(send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1",
                  std::string(kAdmin) + "Range: bytes=99999999-\r\n")
                 .status == 416);

  // Two channels at 8 kHz; the caller's speech on the left only, the agent's reply on the right only.
  const auto wav = directory.file("fetched.wav");
  { std::ofstream(wav, std::ios::binary) << whole.body; }
  BOOST_TEST(run("soxi -c " + wav) == "2\n");
  BOOST_TEST(run("soxi -r " + wav) == "8000\n");
  const double speech_seconds = static_cast<double>(speech_frames) * 0.02;
  BOOST_TEST(rms(wav, 1, 0, speech_seconds) > 0.02);
  BOOST_TEST(rms(wav, 2, 0, speech_seconds - 0.1) < 0.001);
  BOOST_TEST(rms(wav, 2, speech_seconds + 0.1, 0.3) > 0.1);  // the tone
  BOOST_TEST(rms(wav, 1, speech_seconds + 0.1, 0.3) < 0.001);

  BOOST_TEST(metric_value(daemon.port(), "callgate_media_frames_total{direction=\"to_agent\"}") ==
             static_cast<std::int64_t>(frames.size()));
  BOOST_TEST(metric_value(daemon.port(), "callgate_media_frames_total{direction=\"to_provider\"}") ==
             static_cast<std::int64_t>(reply_frames));
  BOOST_TEST(metric_value(daemon.port(), "callgate_media_frames_dropped_total{direction=\"to_agent\"}") <= 0);
}

BOOST_AUTO_TEST_CASE(an_exotel_stream_is_converted_both_ways_and_recorded) {
  TemporaryDirectory directory;
  const auto& said = speech(directory);
  const std::size_t speech_frames = said.mulaw.size() / kFrameBytes;
  FakeVoiceAgent::Script script;
  script.reply_after_frames = speech_frames;
  script.reply_mulaw = said.tone;
  FakeVoiceAgent agent(script);
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory)));
  const auto call = place_call(daemon.port(), "+919876543211");
  // Exotel's applet URL is fixed in its dashboard: no token, the call sid names the lead.
  BOOST_TEST(upgrade_status(daemon.port(), "/media/exotel", "") == 403u);
  BOOST_TEST(upgrade_status(daemon.port(), "/media/exotel", "Authorization: Basic " + base64("exo:wrong") + "\r\n") ==
             403u);

  const std::string stream_sid = "exotel-stream-1";
  const std::size_t frames = speech_frames + 50;
  ProviderClient client(daemon.port(), "/media/exotel", exotel_credentials());
  client.mark_field = "stream_sid";
  client.send(R"({"event":"connected"})");
  client.send(exotel_start(call, stream_sid));
  const std::string silence(320, '\0');
  play(client, frames, [&](std::size_t index) {
    return exotel_media(
        stream_sid, index,
        index < speech_frames ? std::string_view(said.pcm).substr(index * 320, 320) : std::string_view(silence));
  });
  client.send(R"({"event":"stop","sequence_number":999,"stream_sid":")" + stream_sid + R"("})");
  BOOST_TEST_REQUIRE(client.wait_closed(5s));
  BOOST_TEST_REQUIRE(agent.wait_until_closed(0, 5s));

  // The agent heard Twilio's format: 20 ms µ-law frames, one per Exotel chunk here, in order.
  const auto heard = agent.received();
  std::size_t media_seen = 0;
  for (const auto& message : heard) {
    const auto object = parse(message);
    if (text(object.at("event")) != "media") continue;
    BOOST_TEST(text(object.at("media").at("payload")).size() == 216u);  // base64 of 160 bytes
    BOOST_TEST(text(object.at("media").at("timestamp")) == std::to_string(media_seen * 20));
    ++media_seen;
  }
  BOOST_TEST(media_seen == frames);
  BOOST_TEST(events_of(heard).back() == "stop");

  // The provider got 16-bit PCM in Exotel's chunks (multiples of 320 bytes,
  // at least 3.2 KB), keyed by stream_sid, then the mark, then the clear.
  const auto got = client.received();
  std::size_t pcm_bytes = 0;
  std::vector<std::string> events;
  for (const auto& message : got) {
    const auto object = parse(message);
    events.push_back(text(object.at("event")));
    BOOST_TEST(text(object.at("stream_sid")) == stream_sid);
    if (events.back() != "media") continue;
    const auto payload = text(object.at("media").at("payload"));
    const auto bytes =
        payload.size() / 4 * 3 - static_cast<std::size_t>(std::count(payload.end() - 2, payload.end(), '='));
    BOOST_TEST(bytes % 320 == 0u);
    BOOST_TEST(bytes >= 3'200u);
    pcm_bytes += bytes;
  }
  BOOST_TEST_REQUIRE(events.size() >= 3u);
  BOOST_TEST(events[events.size() - 2] == "mark");
  BOOST_TEST(events.back() == "clear");
  BOOST_TEST(pcm_bytes >= said.tone.size() * 2);         // all of the reply ...
  BOOST_TEST(pcm_bytes < said.tone.size() * 2 + 3'200);  // ... padded to one more chunk at most

  const auto lead = wait_for_stream_end(daemon.port(), call.lead_id);
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("claim")) == "exotel:" + call.call_sid);
  const auto whole = send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1", kAdmin);
  BOOST_TEST_REQUIRE(whole.status == 200);
  const auto wav = directory.file("exotel.wav");
  { std::ofstream(wav, std::ios::binary) << whole.body; }
  BOOST_TEST(run("soxi -c " + wav) == "2\n");
  const double speech_seconds = static_cast<double>(speech_frames) * 0.02;
  BOOST_TEST(std::abs(std::stod(run("soxi -D " + wav)) - static_cast<double>(frames) * 0.02) <= 0.02);
  BOOST_TEST(rms(wav, 1, 0, speech_seconds) > 0.02);
  BOOST_TEST(rms(wav, 2, 0, speech_seconds - 0.1) < 0.001);
  BOOST_TEST(rms(wav, 2, speech_seconds + 0.1, 0.3) > 0.1);
}

BOOST_AUTO_TEST_CASE(an_agent_behind_wss_is_reached_over_verified_tls) {
  TemporaryDirectory directory;
  FakeVoiceAgent::Script script;
  script.send_at_frame = 3;
  script.send_at_frame_text = R"({"event":"hangup"})";
  FakeVoiceAgent agent(script, &testing::test_certificates());
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  auto config = media_config(agent.port(), directory);
  // wss:// to "localhost", whose certificate the daemon checks against the test CA (http_client.ca_file).
  config.replace(config.find("ws://127.0.0.1:"), 15, "wss://localhost:");
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, config));
  const auto call = place_call(daemon.port(), "+919876543218");
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(twilio_start(call, "MZ-tls", call.token));
  for (std::size_t index = 0; index < 5; ++index)
    client.send(twilio_media("MZ-tls", index, std::string(kFrameBytes, '\xFF')));
  BOOST_TEST_REQUIRE(client.wait_closed(5s));
  const auto heard = events_of(agent.received());
  BOOST_TEST_REQUIRE(heard.size() >= 5u);
  BOOST_TEST(heard[0] == "connected");
  BOOST_TEST(heard[1] == "start");
  const auto lead = get_lead(daemon.port(), call.lead_id);
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("outcome")) == "hangup");
}

BOOST_AUTO_TEST_CASE(an_agent_whose_certificate_is_not_trusted_is_not_reached) {
  TemporaryDirectory directory;
  FakeVoiceAgent agent({}, &testing::test_certificates());
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  auto config = media_config(agent.port(), directory);
  // The certificate names localhost and 127.0.0.1, not this name: refused, as an impostor would be.
  config.replace(config.find("ws://127.0.0.1:"), 15, "wss://127.0.0.2:");
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, config));
  const auto call = place_call(daemon.port(), "+919876543219");
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(twilio_start(call, "MZ-untrusted", call.token));
  BOOST_TEST_REQUIRE(client.wait_closed(5s));
  BOOST_TEST(agent.received().empty());
  const auto lead = get_lead(daemon.port(), call.lead_id);
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("outcome")) == "agent_unavailable");
}

BOOST_AUTO_TEST_CASE(the_recordings_directory_is_needed_only_by_a_daemon_that_records) {
  TemporaryDirectory directory;
  FakeProviderServer twilio(&testing::test_certificates());
  std::ofstream(directory.file("a-file")) << "not a directory";
  const std::string unmakeable = "voice:\n  recordings_path: \"" + directory.file("a-file") + "/recordings\"\n";
  // Bridging nothing: starts, whatever the path.
  { DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, unmakeable)); }
  // Bridging and recording: refuses to start, saying why.
  const auto config =
      lead_config(twilio.port(), kMemoryStore,
                  "call_flow:\n  next: stream\n" + unmakeable + "  agent:\n    url: \"ws://127.0.0.1:9/agent\"\n");
  try {
    DaemonProcess daemon(config);
    BOOST_FAIL("callgated started without a recordings directory");
  } catch (const std::runtime_error& failure) {
    BOOST_TEST(std::string(failure.what()).find("recordings") != std::string::npos, failure.what());
  }
}

BOOST_AUTO_TEST_CASE(streams_past_voice_max_streams_are_refused_until_one_ends) {
  TemporaryDirectory directory;
  FakeVoiceAgent agent({});
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(
      lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory, "  max_streams: 1\n")));
  const auto call = place_call(daemon.port(), "+919876543220");
  {
    ProviderClient open(daemon.port(), "/media/twilio", twilio_signed());
    open.send(twilio_start(call, "MZ-one", call.token));
    for (int tries = 0; tries < 100 && agent.connections() == 0; ++tries) std::this_thread::sleep_for(20ms);
    BOOST_TEST_REQUIRE(agent.connections() == 1u);
    const auto signature = "X-Twilio-Signature: " + twilio_signed()[0].second + "\r\n";
    BOOST_TEST(upgrade_status(daemon.port(), "/media/twilio", signature) == 503u);
    BOOST_TEST(metric_value(daemon.port(), "callgate_media_streams_open") == 1);
    open.send(R"({"event":"stop","streamSid":"MZ-one"})");
    BOOST_TEST_REQUIRE(open.wait_closed(3s));
  }
  // Its place is given back when it ends.
  for (int tries = 0; tries < 100 && metric_value(daemon.port(), "callgate_media_streams_open") != 0; ++tries)
    std::this_thread::sleep_for(20ms);
  BOOST_TEST(metric_value(daemon.port(), "callgate_media_streams_open") == 0);
  BOOST_TEST(upgrade_status(daemon.port(), "/media/twilio",
                            "X-Twilio-Signature: " + twilio_signed()[0].second + "\r\n") == 101u);
  BOOST_TEST(metric_value(daemon.port(),
                          R"(callgate_media_streams_refused_total{provider="twilio",reason="at_capacity"})") == 1);
}

BOOST_AUTO_TEST_CASE(streams_that_are_not_the_calls_own_are_refused) {
  TemporaryDirectory directory;
  FakeVoiceAgent agent({});
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory)));
  const auto first = place_call(daemon.port(), "+919876543212");
  const auto second = place_call(daemon.port(), "+919876543213");

  // At the upgrade: no signature, a wrong one, a plain GET.
  BOOST_TEST(upgrade_status(daemon.port(), "/media/twilio", "") == 403u);
  BOOST_TEST(upgrade_status(daemon.port(), "/media/twilio", "X-Twilio-Signature: bm90IGl0\r\n") == 403u);
  BOOST_TEST(send(daemon.port(), "GET", "/media/twilio", "").status == 426u);

  // A start that never comes: closed after voice.start_timeout (1 s).
  {
    ProviderClient silent(daemon.port(), "/media/twilio", twilio_signed());
    const auto opened = Clock::now();
    BOOST_TEST_REQUIRE(silent.wait_closed(3s));
    BOOST_TEST((Clock::now() - opened >= 900ms));
    BOOST_TEST((silent.close_reason().code == websocket::close_code::policy_error));
  }
  // The first call's token with the second call's sid.
  {
    ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
    auto crossed = first;
    crossed.call_sid = second.call_sid;
    client.send(twilio_start(crossed, "MZ-crossed", first.token));
    BOOST_TEST_REQUIRE(client.wait_closed(3s));
    BOOST_TEST((client.close_reason().code == websocket::close_code::policy_error));
    BOOST_TEST(std::string(client.close_reason().reason.data(), client.close_reason().reason.size()) == "bad token");
  }
  // A good stream, then the same token again.
  {
    ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
    client.send(twilio_start(first, "MZ-first", first.token));
    client.send(twilio_media("MZ-first", 0, std::string(kFrameBytes, '\xFF')));
    client.send(R"({"event":"stop","streamSid":"MZ-first"})");
    BOOST_TEST_REQUIRE(client.wait_closed(3s));
    BOOST_TEST((client.close_reason().code == websocket::close_code::normal));
  }
  {
    ProviderClient again(daemon.port(), "/media/twilio", twilio_signed());
    again.send(twilio_start(first, "MZ-again", first.token));
    BOOST_TEST_REQUIRE(again.wait_closed(3s));
    BOOST_TEST(std::string(again.close_reason().reason.data(), again.close_reason().reason.size()) ==
               "stream already claimed");
  }
  // A call that has ended takes no stream, even with its own token.
  call_status(daemon.port(), second, "completed", 1);
  {
    ProviderClient late(daemon.port(), "/media/twilio", twilio_signed());
    late.send(twilio_start(second, "MZ-late", second.token));
    BOOST_TEST_REQUIRE(late.wait_closed(3s));
    BOOST_TEST(std::string(late.close_reason().reason.data(), late.close_reason().reason.size()) ==
               "call not in progress");
  }
  BOOST_TEST(agent.connections() == 1u);  // only the good stream reached the agent
  const auto lead = get_lead(daemon.port(), first.lead_id);
  BOOST_TEST(lead.at("mediaStreams").as_array().size() == 1u);
  BOOST_TEST(metric_value(daemon.port(),
                          R"(callgate_media_streams_refused_total{provider="twilio",reason="token_reused"})") == 1);
  BOOST_TEST(metric_value(daemon.port(),
                          R"(callgate_media_streams_refused_total{provider="twilio",reason="token_wrong_call"})") == 1);
  BOOST_TEST(metric_value(daemon.port(),
                          R"(callgate_media_streams_refused_total{provider="twilio",reason="bad_signature"})") == 1);
}

BOOST_AUTO_TEST_CASE(without_an_agent_the_caller_hears_the_fallback_and_the_lead_is_called_again) {
  TemporaryDirectory directory;
  const auto closed_port = testing::free_loopback_port();  // nothing listens there
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, media_config(closed_port, directory)));
  const auto call = place_call(daemon.port(), "+919876543214");
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(twilio_start(call, "MZ-nobody", call.token));
  BOOST_TEST_REQUIRE(client.wait_closed(5s));
  BOOST_TEST((client.close_reason().code == websocket::close_code::normal));  // Twilio goes on to <Connect action>
  const auto lead = get_lead(daemon.port(), call.lead_id);
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("outcome")) == "agent_unavailable");
  const auto next = stream_ended(daemon.port(), call);
  BOOST_TEST(next.find("<Say>Sorry, please expect our call again.</Say><Hangup/>") != std::string::npos);
  call_status(daemon.port(), call, "in-progress", 1);
  call_status(daemon.port(), call, "completed", 2);
  BOOST_TEST(wait_for_calls(account, "+919876543214", 2) == 2u);  // dialer.redial after 1 s
}

BOOST_AUTO_TEST_CASE(an_agent_lost_mid_call_is_treated_as_absent) {
  TemporaryDirectory directory;
  FakeVoiceAgent::Script script;
  script.close_after_frames = 10;
  FakeVoiceAgent agent(script);
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory)));
  const auto call = place_call(daemon.port(), "+919876543215");
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(twilio_start(call, "MZ-lost", call.token));
  std::thread talk([&] {
    play(client, 100,
         [&](std::size_t index) { return twilio_media("MZ-lost", index, std::string(kFrameBytes, '\x55')); });
  });
  BOOST_TEST(client.wait_closed(5s));  // well before the 2 s of audio are over
  talk.join();
  const auto lead = wait_for_stream_end(daemon.port(), call.lead_id);
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("outcome")) == "agent_unavailable");
  BOOST_TEST(stream_ended(daemon.port(), call).find("<Say>Sorry, please expect our call again.</Say>") !=
             std::string::npos);
  call_status(daemon.port(), call, "completed", 1);
  BOOST_TEST(wait_for_calls(account, "+919876543215", 2) == 2u);
  // The part of the call that was bridged is recorded.
  BOOST_TEST(lead.at("recordings").as_array().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_agent_that_hangs_up_ends_the_call_without_a_fallback_or_redial) {
  TemporaryDirectory directory;
  FakeVoiceAgent::Script script;
  script.send_at_frame = 5;
  script.send_at_frame_text = R"({"event":"hangup"})";
  FakeVoiceAgent agent(script);
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  // Recording off: nothing written, nothing listed.
  DaemonProcess daemon(
      lead_config(twilio.port(), kMemoryStore, media_config(agent.port(), directory, "  record: false\n")));
  const auto call = place_call(daemon.port(), "+919876543216");
  ProviderClient client(daemon.port(), "/media/twilio", twilio_signed());
  client.send(twilio_start(call, "MZ-bye", call.token));
  std::thread talk([&] {
    play(client, 50, [&](std::size_t index) {
      // A key pressed between frames reaches the agent in its place.
      if (index == 2)
        client.send(
            R"({"event":"dtmf","streamSid":"MZ-bye","sequenceNumber":"4","dtmf":{"track":"inbound_track","digit":"7"}})");
      return twilio_media("MZ-bye", index, std::string(kFrameBytes, '\x55'));
    });
  });
  BOOST_TEST(client.wait_closed(5s));
  talk.join();
  boost::json::object lead;
  for (int tries = 0; tries < 250; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(daemon.port(), call.lead_id);
    const auto& streams = lead.at("mediaStreams").as_array();
    if (!streams.empty() && streams[0].as_object().contains("endedAt")) break;
  }
  BOOST_TEST(text(lead.at("mediaStreams").at(0).at("outcome")) == "hangup");
  BOOST_TEST(lead.at("recordings").as_array().empty());
  BOOST_TEST(!std::filesystem::exists(directory.file("recordings")));
  const auto heard = agent.received();
  const auto heard_events = events_of(heard);
  BOOST_TEST_REQUIRE(heard_events.size() >= 6u);
  BOOST_TEST(heard_events[2] == "media");
  BOOST_TEST(heard_events[3] == "media");
  BOOST_TEST(heard_events[4] == "dtmf");
  BOOST_TEST(text(parse(heard[4]).at("dtmf").at("digit")) == "7");
  const auto next = stream_ended(daemon.port(), call);
  BOOST_TEST(next.find("<Say>") == std::string::npos);
  BOOST_TEST(next.find("<Hangup/>") != std::string::npos);
  call_status(daemon.port(), call, "completed", 1);
  std::this_thread::sleep_for(1500ms);  // past dialer.redial's 1 s
  BOOST_TEST(account.calls_to("+919876543216") == 1u);
}

BOOST_AUTO_TEST_CASE(a_providers_recording_is_listed_and_downloaded_into_the_recordings_path) {
  TemporaryDirectory directory;
  FakeVoiceAgent agent({});
  FakeProviderServer twilio(&testing::test_certificates());
  FakeTwilioAccount account(twilio, kAccountSid, kAuthToken);
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore,
                                   media_config(agent.port(), directory, "  fetch_provider_recordings: true\n")));
  const auto call = place_call(daemon.port(), "+919876543217");
  const std::string recording_sid = "RE0123456789abcdef0123456789abcdef";
  const std::string url = "https://localhost:" + std::to_string(twilio.port()) + "/2010-04-01/Accounts/" + kAccountSid +
                          "/Recordings/" + recording_sid;
  const std::string wav = "RIFF" + std::string(40, '\0') + std::string(1000, '\x7F');
  twilio.script({200, wav, "audio/x-wav"});
  const http::FormFields fields{{"AccountSid", kAccountSid},      {"CallSid", call.call_sid},
                                {"RecordingSid", recording_sid},  {"RecordingUrl", url},
                                {"RecordingStatus", "completed"}, {"RecordingDuration", "12"},
                                {"RecordingChannels", "2"},       {"RecordingSource", "OutboundAPI"}};
  const std::string target = "/webhook/twilio/recording?leadId=" + call.lead_id;
  const auto answer =
      send(daemon.port(), "POST", target,
           "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
               providers::twilio::compute_signature(kAuthToken, std::string(kPublicBase) + target, fields) + "\r\n",
           http::encode_form(fields));
  BOOST_TEST_REQUIRE(answer.status == 204);
  boost::json::object lead;
  for (int tries = 0; tries < 250; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(daemon.port(), call.lead_id);
    const auto& recordings = lead.at("recordings").as_array();
    if (!recordings.empty() && recordings[0].as_object().contains("file")) break;
  }
  const auto& recording = lead.at("recordings").at(0).as_object();
  BOOST_TEST(text(recording.at("id")) == recording_sid);
  BOOST_TEST(text(recording.at("providerUrl")) == url);
  BOOST_TEST_REQUIRE(recording.contains("file"));
  // Fetched as Twilio serves it: the WAV extension, the account's Basic credentials.
  const auto requests = twilio.requests();
  BOOST_TEST_REQUIRE(!requests.empty());
  const auto& fetched = requests.back();
  BOOST_TEST(fetched.method == "GET");
  BOOST_TEST(fetched.target ==
             "/2010-04-01/Accounts/" + std::string(kAccountSid) + "/Recordings/" + recording_sid + ".wav");
  BOOST_TEST(fetched.header("Authorization") == "Basic " + base64(std::string(kAccountSid) + ":" + kAuthToken));
  // Kept privately on disk, and served like callgate's own.
  const auto path = directory.file("recordings/" + text(recording.at("file")));
  BOOST_TEST(read_file(path) == wav);
  struct stat status {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0600u);
  BOOST_TEST(send(daemon.port(), "GET", "/leads/" + call.lead_id + "/recordings/1", kAdmin).body == wav);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
