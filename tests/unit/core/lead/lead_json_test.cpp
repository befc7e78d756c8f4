#include "core/lead/lead_json.hpp"

#include "core/civil_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <limits>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(lead_json)

namespace {

const WallTime t0(std::chrono::milliseconds(1'795'604'472'123));

// A lead with every part filled in, no field at its default.
Lead full_lead() {
  Lead lead;
  lead.id = "01M89GEGBQXW57F1EKQXC07AED";
  lead.phone = "+919876543210";
  lead.name = "Asha \"A\" Rao";
  lead.email = "asha@example.in";
  lead.source = "pricing";
  lead.metadata_json = R"({"utm":"diwali"})";
  lead.consent = {t0, "203.0.113.9", "Mozilla/5.0", "v3"};
  lead.created = t0;
  lead.updated = t0 + std::chrono::seconds(70);
  lead.status = LeadStatus::completed;
  Attempt attempt;
  attempt.provider = "twilio";
  attempt.call_sid = "CA1";
  attempt.status = CallStatus::completed;
  attempt.created = t0;
  attempt.answered = t0 + std::chrono::seconds(9);
  attempt.ended = t0 + std::chrono::seconds(70);
  attempt.duration_seconds = 61;
  attempt.answered_by = "human";
  attempt.sip_code = 200;
  attempt.recording_url = "https://api.twilio.com/rec/RE1";
  lead.attempts.push_back(attempt);
  Attempt failed;
  failed.provider = "exotel";
  failed.created = t0 + std::chrono::seconds(80);
  failed.error = "rejected 21211: invalid To number";
  lead.attempts.push_back(failed);
  // Every field of an event set, none at its default.
  CallEvent event;
  event.provider = "twilio";
  event.call_sid = "CA1";
  event.lead_id = lead.id;
  event.status = CallStatus::completed;
  event.raw_status = "completed";
  event.sequence_number = 3;
  event.idempotency_token = "tok-3";
  event.event_time = t0 + std::chrono::seconds(70);
  event.duration_seconds = 61;
  event.recording_url = "https://api.twilio.com/rec/RE1";
  event.answered_by = "human";
  event.sip_code = 200;
  event.digits = "1";
  event.speech_result = "call me";
  event.confidence = 0.5;
  lead.events.push_back({event, t0 + std::chrono::seconds(71), EventOutcome::out_of_order});
  lead.call_flow_inputs.push_back({"twilio", "CA1", "1", "call me", 0.93, "gather", t0 + std::chrono::seconds(30)});

  return lead;
}

// The lead's record text (append_json) read back as the journal reads it.
Lead written_and_read_back(const Lead& lead) {
  std::string written;
  append_json(written, lead);
  boost::system::error_code error;
  const auto parsed = parse_stored_json(written, error);
  BOOST_TEST_REQUIRE(!error, written);
  auto back = lead_from_json(parsed);
  BOOST_TEST_REQUIRE(back.has_value(), written);
  return std::move(*back);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_lead_round_trips) {
  const Lead lead = full_lead();
  const auto text = boost::json::serialize(to_json(lead));
  const auto back = lead_from_json(boost::json::parse(text));
  BOOST_TEST_REQUIRE(back.has_value(), text);
  // Every field of every part (the types' defaulted ==, so a field added
  // later is compared too), the consent and the call flow's inputs included.
  BOOST_TEST((back->consent == lead.consent), text);
  BOOST_TEST((back->attempts == lead.attempts), text);
  BOOST_TEST((back->events == lead.events), text);
  BOOST_TEST((back->call_flow_inputs == lead.call_flow_inputs), text);
  BOOST_TEST((*back == lead), text);
  BOOST_TEST(boost::json::serialize(to_json(*back)) == text);
}

BOOST_AUTO_TEST_CASE(the_direct_event_writer_says_what_to_json_says) {
  std::vector<CallEvent> events(4);
  events[0].call_sid = "CA1";  // the least an event has
  events[1].provider = "twilio";
  events[1].call_sid = "CA2";
  events[1].lead_id = "01M89GEGBQXW57F1EKQXC07AED";
  events[1].status = CallStatus::completed;
  events[1].raw_status = "completed";
  events[1].sequence_number = 18446744073709551615ull;
  events[1].idempotency_token = "tok-1";
  events[1].event_time = t0;
  events[1].duration_seconds = -1;
  events[1].recording_url = "https://api.example/rec?a=1&b=2";
  events[1].answered_by = "machine_end_beep";
  events[1].sip_code = 486;
  events[1].digits = "12#";
  events[1].speech_result = "I said \"call me\" \\ later\n\ttoday\x01\x1f";
  events[1].confidence = 0.9312;
  events[2] = events[1];
  events[2].confidence = 1.0;                                     // a whole double stays a double
  events[2].speech_result = std::string("caf\xe9 \x80 \xff", 8);  // not UTF-8: kept as sent
  events[3] = events[1];
  events[3].confidence = 0.0;
  events[3].raw_status = "</script>\u2028";
  for (const auto& event : events) {
    std::string written;
    append_json(written, event);
    boost::system::error_code error;
    const auto parsed = parse_stored_json(written, error);
    BOOST_TEST_REQUIRE(!error, written);
    boost::json::parse_options lenient;
    lenient.allow_invalid_utf8 = true;
    const auto expected = boost::json::parse(boost::json::serialize(to_json(event)), {}, lenient);
    BOOST_TEST((parsed == expected), written << " vs " << boost::json::serialize(expected));
    const auto back = call_event_from_json(parsed);
    BOOST_TEST_REQUIRE(back.has_value(), written);
    BOOST_TEST((*back == event), written);  // every field read back as written
  }
}

// The API's lead and the journal's record keep their shape: every key, its
// order and its type, as the build that built a boost::json::object field
// by field wrote them (taken from it, 2026-12-07).
BOOST_AUTO_TEST_CASE(a_lead_is_written_in_its_documented_shape) {
  Lead voice = full_lead();
  voice.recordings.push_back({"bridge-MZ1", "bridge", "CA1", "completed", "MZ1.wav", "", 61'000, 2, "wav/mulaw", "", t0,
                              t0 + std::chrono::seconds(61)});
  voice.recordings.push_back(
      {"RE1", "twilio", "", "failed", "", "https://api.twilio.com/RE1", std::nullopt, 0, "", "13617", t0, t0});
  voice.transcript.push_back({"CA1", "agent", "agent", "Hello \"there\"", "", t0});
  voice.transcript.push_back({"", "twilio", "caller", "", "completed", t0 + std::chrono::seconds(2)});
  voice.media_streams.push_back(
      {"claim-1", "CA1", "twilio", "MZ1", t0, t0 + std::chrono::seconds(61), "agent_closed", "+14155550100"});
  voice.media_streams.push_back({"claim-2", "CA2", "exotel", "", t0, std::nullopt, "", ""});
  Lead least;  // only what every lead has
  least.id = "01M89GEGBQXW57F1EKQXC07AEE";
  least.phone = "+14155550123";
  least.consent.given_at = t0;
  least.created = t0;
  least.updated = t0;
  Lead broken_metadata = least;  // a metadata text that does not read is left out, not written broken
  broken_metadata.metadata_json = "{not json";

  const std::string full_shape =
      R"JSON({"id":"01M89GEGBQXW57F1EKQXC07AED","phone":"+919876543210","name":"Asha \"A\" Rao","email":"asha@example.in","source":"pricing","metadata":{"utm":"diwali"},"consent":{"givenAt":"2026-11-25T11:01:12.123Z","clientAddress":"203.0.113.9","userAgent":"Mozilla/5.0","textVersion":"v3"},"createdAt":"2026-11-25T11:01:12.123Z","updatedAt":"2026-11-25T11:02:22.123Z","status":"completed","attempts":[{"provider":"twilio","callSid":"CA1","status":"completed","createdAt":"2026-11-25T11:01:12.123Z","answeredAt":"2026-11-25T11:01:21.123Z","endedAt":"2026-11-25T11:02:22.123Z","durationSeconds":61,"recordingUrl":"https://api.twilio.com/rec/RE1","answeredBy":"human","sipCode":200},{"provider":"exotel","callSid":"","createdAt":"2026-11-25T11:02:32.123Z","error":"rejected 21211: invalid To number"}],"events":[{"provider":"twilio","callSid":"CA1","leadId":"01M89GEGBQXW57F1EKQXC07AED","status":"completed","rawStatus":"completed","sequenceNumber":3,"idempotencyToken":"tok-3","eventTime":"2026-11-25T11:02:22.123Z","durationSeconds":61,"recordingUrl":"https://api.twilio.com/rec/RE1","answeredBy":"human","sipCode":200,"digits":"1","speechResult":"call me","confidence":5E-1,"receivedAt":"2026-11-25T11:02:23.123Z","outcome":"out_of_order"}],"callFlowInputs":[{"provider":"twilio","callSid":"CA1","digits":"1","speechResult":"call me","confidence":9.3E-1,"detail":"gather","receivedAt":"2026-11-25T11:01:42.123Z"}],"recordings":[],"transcript":[],"mediaStreams":[]})JSON";
  const std::string voice_parts =
      R"JSON("recordings":[{"id":"bridge-MZ1","source":"bridge","callSid":"CA1","status":"completed","file":"MZ1.wav","durationMs":61000,"channels":2,"format":"wav/mulaw","startedAt":"2026-11-25T11:01:12.123Z","updatedAt":"2026-11-25T11:02:13.123Z"},{"id":"RE1","source":"twilio","status":"failed","providerUrl":"https://api.twilio.com/RE1","errorCode":"13617","startedAt":"2026-11-25T11:01:12.123Z","updatedAt":"2026-11-25T11:01:12.123Z"}],"transcript":[{"callSid":"CA1","source":"agent","role":"agent","text":"Hello \"there\"","at":"2026-11-25T11:01:12.123Z"},{"source":"twilio","role":"caller","text":"","status":"completed","at":"2026-11-25T11:01:14.123Z"}],"mediaStreams":[{"claim":"claim-1","callSid":"CA1","provider":"twilio","streamSid":"MZ1","startedAt":"2026-11-25T11:01:12.123Z","endedAt":"2026-11-25T11:02:13.123Z","outcome":"agent_closed","transferTo":"+14155550100"},{"claim":"claim-2","callSid":"CA2","provider":"exotel","startedAt":"2026-11-25T11:01:12.123Z"}]})JSON";
  const std::string least_shape =
      R"JSON({"id":"01M89GEGBQXW57F1EKQXC07AEE","phone":"+14155550123","consent":{"givenAt":"2026-11-25T11:01:12.123Z"},"createdAt":"2026-11-25T11:01:12.123Z","updatedAt":"2026-11-25T11:01:12.123Z","status":"pending","attempts":[],"events":[],"callFlowInputs":[],"recordings":[],"transcript":[],"mediaStreams":[]})JSON";
  // The record's text, re-serialized (it writes 0.5, Boost.JSON 5E-1), and the API's object.
  const auto record = [](const Lead& lead) {
    std::string written;
    append_json(written, lead);
    boost::system::error_code error;
    const auto parsed = parse_stored_json(written, error);
    BOOST_TEST_REQUIRE(!error, written);
    return boost::json::serialize(parsed);
  };
  BOOST_TEST(record(full_lead()) == full_shape);
  BOOST_TEST(boost::json::serialize(to_json(full_lead())) == full_shape);
  BOOST_TEST(record(voice) == full_shape.substr(0, full_shape.find(R"("recordings")")) + voice_parts);
  BOOST_TEST(record(least) == least_shape);
  BOOST_TEST(record(broken_metadata) == least_shape);
  BOOST_TEST(boost::json::serialize(to_json(broken_metadata)) == least_shape);
}

BOOST_AUTO_TEST_CASE(the_written_lead_reads_back_whole_whatever_its_text_holds) {
  Lead lead = full_lead();
  lead.name = std::string("caf\xe9 \"\\\n\x01\x7f", 10);  // not UTF-8, and every kind of escape
  lead.metadata_json = boost::json::serialize(boost::json::parse(R"({"a":[1,2.5,{"b":null}],"c":"\u00e9"})"));
  lead.recordings.push_back({"RE1", "twilio", "", "failed", "", "https://api.twilio.com/RE1", 5, 1, "", "", t0, t0});
  lead.transcript.push_back({"CA1", "agent", "agent", "tab\there", "", t0});
  lead.media_streams.push_back({"c", "CA1", "twilio", "", t0, std::nullopt, "", ""});
  const auto back = written_and_read_back(lead);
  BOOST_TEST((back == lead));
  const auto from_object = lead_from_json(to_json(lead));
  BOOST_TEST_REQUIRE(from_object.has_value());
  BOOST_TEST((*from_object == lead));
}

BOOST_AUTO_TEST_CASE(a_number_json_cannot_hold_is_left_out_not_written_broken) {
  // A record with "nan" in it would not read back, and the journal would
  // not start past it: a value that is not finite is left out, as absent.
  for (const double odd : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    Lead lead = full_lead();
    lead.events.front().event.confidence = odd;
    lead.call_flow_inputs.front().confidence = odd;
    const auto back = written_and_read_back(lead);
    BOOST_TEST(!back.events.front().event.confidence.has_value());
    BOOST_TEST(!back.call_flow_inputs.front().confidence.has_value());
    std::string event_text;
    append_json(event_text, lead.events.front().event);
    BOOST_TEST(event_text.find("confidence") == std::string::npos, event_text);
  }
}

BOOST_AUTO_TEST_CASE(every_character_json_must_escape_is_escaped_wherever_it_stands) {
  // The writer skips eight bytes at a time that need no escape: a quote, a
  // backslash or a control character at any place in or across those
  // eights, among bytes that look alike to it (0x7f, 0x80 and up, '!', ']'),
  // must come out escaped and read back the same.
  const std::string filler = "a\x7f!]\xc3\xa9 \x80~\xff#";
  std::vector<char> specials = {'"', '\\'};
  for (int control = 0; control < 0x20; ++control) specials.push_back(static_cast<char>(control));
  for (const char special : specials)
    for (std::size_t length = 1; length <= 24; ++length)
      for (std::size_t at = 0; at < length; ++at) {
        std::string text;
        for (std::size_t index = 0; index < length; ++index) text.push_back(filler[index % filler.size()]);
        text[at] = special;
        CallEvent event;
        event.call_sid = "CA1";
        event.speech_result = text;
        std::string written;
        append_json(written, event);
        BOOST_TEST_REQUIRE(
            std::none_of(written.begin(), written.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
            "a raw control character in " << written);
        boost::system::error_code error;
        const auto back = call_event_from_json(parse_stored_json(written, error));
        BOOST_TEST_REQUIRE(!error, written);
        BOOST_TEST_REQUIRE(back.has_value(), written);
        BOOST_TEST_REQUIRE(back->speech_result == text, written);
      }
}

BOOST_AUTO_TEST_CASE(broken_records_are_refused_not_half_read) {
  BOOST_TEST(!lead_from_json(boost::json::parse(R"({"id":"x"})")).has_value());
  BOOST_TEST(
      !lead_from_json(
           boost::json::parse(
               R"({"id":"x","phone":"+1","createdAt":"2026-11-25T00:00:00Z","updatedAt":"2026-11-25T00:00:00Z","status":"exploded"})"))
           .has_value());
  BOOST_TEST(!call_event_from_json(boost::json::parse(R"({"callSid":"CA1","status":"ringing","sequenceNumber":"1"})"))
                  .has_value());
  BOOST_TEST(call_event_from_json(boost::json::parse(R"({"callSid":"CA1","status":"ringing","sequenceNumber":1})"))
                 .has_value());
}

BOOST_AUTO_TEST_SUITE_END()
