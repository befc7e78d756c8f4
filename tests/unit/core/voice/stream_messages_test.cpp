#include "core/voice/stream_messages.hpp"

#include "core/crypto.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::voice;

namespace {

ProviderMessage provider(StreamFormat format, std::string_view text) {
  auto parsed = parse_provider_message(format, text);
  if (auto* error = std::get_if<MessageError>(&parsed)) BOOST_FAIL("refused: " << error->message << " in " << text);
  return std::get<ProviderMessage>(parsed);
}

std::string refusal(StreamFormat format, std::string_view text) {
  auto parsed = parse_provider_message(format, text);
  auto* error = std::get_if<MessageError>(&parsed);
  return error ? error->message : std::string("(accepted)");
}

boost::json::object json_of(const std::string& text) { return boost::json::parse(text).as_object(); }
std::string text(const boost::json::value& value) { return std::string(value.as_string()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_messages)

BOOST_AUTO_TEST_CASE(twilio_start_media_dtmf_mark_stop_are_read) {
  const auto start = provider(StreamFormat::twilio, R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1",
    "start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],
    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
    "customParameters":{"leadId":"L1","token":"T"}}})");
  BOOST_TEST((start.kind == ProviderMessage::Kind::start));
  BOOST_TEST(start.start.call_sid == "CA1");
  BOOST_TEST(start.start.stream_sid == "MZ1");
  BOOST_TEST(start.start.account_sid == "AC1");
  BOOST_TEST(start.start.parameter("leadId").value_or("") == "L1");
  BOOST_TEST(start.start.parameter("token").value_or("") == "T");
  BOOST_TEST(!start.start.parameter("other").has_value());

  const auto media = provider(StreamFormat::twilio, R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1",
    "media":{"track":"inbound","chunk":"1","timestamp":"5","payload":")" +
                                                        base64_encode("\x01\x02\x03") + R"("}})");
  BOOST_TEST((media.kind == ProviderMessage::Kind::media));
  BOOST_TEST(media.timestamp_ms == 5u);
  BOOST_TEST(media.audio == "\x01\x02\x03");

  const auto dtmf = provider(
      StreamFormat::twilio,
      R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}})");
  BOOST_TEST(dtmf.digit == "1");
  const auto mark = provider(StreamFormat::twilio, R"({"event":"mark","streamSid":"MZ1","mark":{"name":"greeting"}})");
  BOOST_TEST(mark.mark_name == "greeting");
  BOOST_TEST((provider(StreamFormat::twilio, R"({"event":"stop","streamSid":"MZ1","stop":{}})").kind ==
              ProviderMessage::Kind::stop));
  BOOST_TEST((provider(StreamFormat::twilio, R"({"event":"connected","protocol":"Call"})").kind ==
              ProviderMessage::Kind::connected));
}

BOOST_AUTO_TEST_CASE(exotel_messages_are_read_in_either_spelling_and_with_numbers_either_way) {
  const auto start = provider(StreamFormat::exotel, R"({"event":"start","sequence_number":1,"stream_sid":"S1",
    "start":{"stream_sid":"S1","call_sid":"C1","account_sid":"A1","from":"09876543210","to":"08012345678",
    "custom_parameters":{"leadId":"L1"},"media_format":{"encoding":"base64","sample_rate":"8000","bit_rate":"128kbps"}}})");
  BOOST_TEST(start.start.call_sid == "C1");
  BOOST_TEST(start.start.from == "09876543210");
  BOOST_TEST(start.start.sample_rate == 8000u);
  BOOST_TEST(start.start.parameter("leadId").value_or("") == "L1");

  const auto media = provider(StreamFormat::exotel, R"({"event":"media","sequence_number":2,"streamSid":"S1",
    "media":{"chunk":1,"timestamp":20,"payload":")" + base64_encode(std::string(320, '\0')) +
                                                        R"("}})");
  BOOST_TEST(media.stream_sid == "S1");
  BOOST_TEST(media.timestamp_ms == 20u);
  BOOST_TEST(media.audio.size() == 320u);
}

BOOST_AUTO_TEST_CASE(malformed_provider_messages_are_refused_with_a_reason) {
  BOOST_TEST(refusal(StreamFormat::twilio, "not json") == "not a JSON object");
  BOOST_TEST(refusal(StreamFormat::twilio, "[1]") == "not a JSON object");
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"streamSid":"MZ1"})") == "a message without an event");
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"start","start":{"streamSid":"MZ1"}})") ==
             "start without a call sid");
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"media","media":{"timestamp":"x","payload":""}})") ==
             "media without a timestamp");
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"media","media":{"timestamp":"1","payload":"@@@"}})") ==
             "media payload is not base64");
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"media","media":{"timestamp":"-1","payload":""}})") ==
             "media without a timestamp");
  BOOST_TEST(refusal(StreamFormat::exotel, R"({"event":"media","media":{"timestamp":1,"payload":"AA=="}})") ==
             "16-bit PCM payload of an odd number of bytes");
  const std::string huge(200'000, 'A');
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"media","media":{"timestamp":"1","payload":")" + huge + "\"}}")
                 .starts_with("media payload larger than"));
  BOOST_TEST(refusal(StreamFormat::twilio, R"({"event":"dtmf","dtmf":{"digit":"12"}})") ==
             "dtmf without a single digit");
  // An event nobody knows is passed over, not a reason to end the call.
  BOOST_TEST((provider(StreamFormat::twilio, R"({"event":"something-new"})").kind == ProviderMessage::Kind::other));
  BOOST_TEST(
      (provider(StreamFormat::twilio, R"({"event":"media","media":{"track":"outbound","timestamp":"1","payload":""}})")
           .kind == ProviderMessage::Kind::other));
}

BOOST_AUTO_TEST_CASE(the_agent_hears_twilios_format_with_its_own_sequence) {
  AgentMessageWriter writer("MZ\"1");
  BOOST_TEST(text(json_of(writer.connected()).at("event")) == "connected");
  AgentStartContext context{"MZ\"1", "CA1", "AC1", "exotel", {{"leadId", "L1"}, {"leadName", "Asha"}}};
  const auto start = json_of(writer.start(context));
  BOOST_TEST(text(start.at("sequenceNumber")) == "1");
  BOOST_TEST(text(start.at("streamSid")) == "MZ\"1");
  BOOST_TEST(text(start.at("start").at("callSid")) == "CA1");
  BOOST_TEST(text(start.at("start").at("mediaFormat").at("encoding")) == "audio/x-mulaw");
  BOOST_TEST(text(start.at("start").at("customParameters").at("leadName")) == "Asha");
  const auto media = json_of(writer.media(40, "\xFF\x7F"));
  BOOST_TEST(text(media.at("sequenceNumber")) == "2");
  BOOST_TEST(text(media.at("streamSid")) == "MZ\"1");
  BOOST_TEST(text(media.at("media").at("timestamp")) == "40");
  BOOST_TEST(text(media.at("media").at("chunk")) == "1");
  BOOST_TEST(text(media.at("media").at("payload")) == base64_encode("\xFF\x7F"));
  BOOST_TEST(text(json_of(writer.dtmf("5")).at("dtmf").at("digit")) == "5");
  BOOST_TEST(text(json_of(writer.mark("m1")).at("mark").at("name")) == "m1");
  const auto stop = json_of(writer.stop("AC1", "CA1"));
  BOOST_TEST(text(stop.at("sequenceNumber")) == "5");
  BOOST_TEST(text(stop.at("stop").at("callSid")) == "CA1");
}

BOOST_AUTO_TEST_CASE(agent_messages_are_read_and_checked) {
  auto agent = [](std::string_view text) {
    auto parsed = parse_agent_message(text);
    if (auto* error = std::get_if<MessageError>(&parsed))
      return AgentMessage{AgentMessage::Kind::other, "", "", "", "", "error: " + error->message};
    return std::get<AgentMessage>(parsed);
  };
  BOOST_TEST(agent(R"({"event":"media","streamSid":"x","media":{"payload":")" + base64_encode("ab") + "\"}}").audio ==
             "ab");
  BOOST_TEST(agent(R"({"event":"mark","mark":{"name":"m"}})").mark_name == "m");
  BOOST_TEST((agent(R"({"event":"clear"})").kind == AgentMessage::Kind::clear));
  BOOST_TEST((agent(R"({"event":"hangup"})").kind == AgentMessage::Kind::hangup));
  BOOST_TEST(agent(R"({"event":"transfer","to":"+919876543210"})").transfer_to == "+919876543210");
  BOOST_TEST(agent(R"({"event":"transfer","to":"9876543210"})").text.starts_with("error: transfer needs"));
  BOOST_TEST(agent(R"({"event":"transcript","role":"caller","text":"hello"})").text == "hello");
  BOOST_TEST(agent(R"({"event":"transcript","role":"bot","text":"hello"})").text ==
             "error: transcript role must be agent or caller");
  BOOST_TEST(agent(R"({"event":"mark","mark":{}})").text.starts_with("error: mark without a name"));
}

BOOST_AUTO_TEST_CASE(provider_bound_messages_use_each_providers_spelling) {
  const auto twilio = json_of(provider_media(StreamFormat::twilio, "MZ1", "\x01"));
  BOOST_TEST(text(twilio.at("streamSid")) == "MZ1");
  BOOST_TEST(text(twilio.at("media").at("payload")) == base64_encode("\x01"));
  const auto exotel = json_of(provider_mark(StreamFormat::exotel, "S1", "m"));
  BOOST_TEST(text(exotel.at("stream_sid")) == "S1");
  BOOST_TEST(text(exotel.at("mark").at("name")) == "m");
  BOOST_TEST(text(json_of(provider_clear(StreamFormat::twilio, "MZ1")).at("event")) == "clear");
}

BOOST_AUTO_TEST_CASE(exotel_chunks_are_whole_units_between_its_limits) {
  ExotelChunker chunker;
  BOOST_TEST(chunker.add(std::string(320 * 9, '\1')).empty());  // 2,880 bytes: under 3.2 KB
  auto due = chunker.add(std::string(320 * 2, '\1'));
  BOOST_TEST(due.size() == 1u);
  BOOST_TEST(due[0].size() == 3'520u);
  BOOST_TEST(chunker.pending_bytes() == 0u);
  due = chunker.add(std::string(250'000, '\1'));
  BOOST_TEST(due.size() == 3u);
  BOOST_TEST(due[0].size() == ExotelChunker::kMaximum);
  BOOST_TEST(due[1].size() == ExotelChunker::kMaximum);
  BOOST_TEST(due[2].size() == 50'240u);
  BOOST_TEST(chunker.pending_bytes() == 80u);  // under the minimum: held
  const auto rest = chunker.flush();
  BOOST_TEST(rest->size() == ExotelChunker::kMinimum);
  BOOST_TEST(!chunker.flush().has_value());
  chunker.add(std::string(10, '\1'));
  const auto padded = chunker.flush();
  BOOST_TEST(padded->size() == ExotelChunker::kMinimum);
  BOOST_TEST(padded->substr(10).find_first_not_of('\0') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
