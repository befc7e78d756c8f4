#include "core/dialer/dial_job_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::dialer;

BOOST_AUTO_TEST_SUITE(dial_job_json)

BOOST_AUTO_TEST_CASE(a_job_with_every_field_set_reads_back_whole) {
  auto job = dial_job("01LEAD", 3, WallTime(std::chrono::seconds(1'795'604'472)), "redial: busy");
  job.failures = 2;
  job.slot_reserved = true;
  job.check = AmbiguousCheck{"exotel", WallTime(std::chrono::milliseconds(1'795'604'400'250)), 4, 2};
  const auto text = boost::json::serialize(job_json(job));
  const auto parsed = boost::json::parse(text);
  const auto back = job_from_json(&parsed);
  BOOST_REQUIRE_MESSAGE(back.has_value(), text);
  BOOST_TEST((*back == job), text);  // DialJob's defaulted ==: every field
  // And a plain placement, with no check.
  const auto plain = dial_job("01OTHER", 1, WallTime(std::chrono::seconds(1'795'604'000)), "enquiry");
  const auto plain_parsed = boost::json::parse(boost::json::serialize(job_json(plain)));
  BOOST_TEST((job_from_json(&plain_parsed) == plain));
}

BOOST_AUTO_TEST_CASE(the_direct_writer_says_what_job_json_says) {
  auto full = dial_job("01LEAD", 3, WallTime(std::chrono::seconds(1'795'604'472)), "redial: \"busy\"\n");
  full.failures = 2;
  full.slot_reserved = true;
  full.check = AmbiguousCheck{"exotel", WallTime(std::chrono::milliseconds(1'795'604'400'250)), 4, 2};
  auto without_reason = full;
  without_reason.reason.clear();
  without_reason.slot_reserved = false;
  const auto plain = dial_job("01OTHER", 1, WallTime(std::chrono::seconds(1'795'604'000)), "enquiry");
  for (const auto& job : {full, without_reason, plain}) {
    std::string written;
    JsonObjectWriter object(written);
    write_job_fields(object, job);
    object.close();
    const auto expected = boost::json::serialize(job_json(job));
    const auto parsed = boost::json::parse(written);
    BOOST_TEST(boost::json::serialize(parsed) == expected, written);  // the same fields, in the same order
    BOOST_TEST((job_from_json(&parsed) == job), written);
  }
}

BOOST_AUTO_TEST_CASE(a_job_missing_a_field_or_of_the_wrong_type_is_refused) {
  const auto whole = job_json(dial_job("01LEAD", 1, WallTime(std::chrono::seconds(1'795'604'472)), "enquiry"));
  BOOST_TEST(!job_from_json(nullptr).has_value());
  const boost::json::value not_an_object = boost::json::parse("[1,2]");
  BOOST_TEST(!job_from_json(&not_an_object).has_value());
  for (const auto& field : whole) {
    BOOST_TEST_CONTEXT(field.key()) {
      auto without = whole;
      without.erase(field.key());
      const boost::json::value missing = without;
      // Optional fields may go; a required one may not. Either way nothing half-read comes back.
      if (const auto read = job_from_json(&missing)) BOOST_TEST(read->lead_id == "01LEAD");
      auto wrong = whole;
      wrong[field.key()] = boost::json::array{};
      const boost::json::value mistyped = wrong;
      BOOST_TEST(!job_from_json(&mistyped).has_value());
    }
  }
  auto without_lead = whole;
  without_lead.erase("leadId");
  const boost::json::value no_lead = without_lead;
  BOOST_TEST(!job_from_json(&no_lead).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
