#include "core/lead/lead_json.hpp"

#include "core/civil_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(lead_json)

BOOST_AUTO_TEST_CASE(a_full_lead_round_trips) {
  const WallTime t0(std::chrono::milliseconds(1'795'604'472'123));
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
  const WallTime t0(std::chrono::milliseconds(1'795'604'472'123));
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
