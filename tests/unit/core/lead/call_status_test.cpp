#include "core/lead/call_status.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace callgate;

namespace {

const std::vector<CallStatus> kEveryCallStatus = {CallStatus::queued,      CallStatus::initiated, CallStatus::ringing,
                                                  CallStatus::in_progress, CallStatus::completed, CallStatus::busy,
                                                  CallStatus::no_answer,   CallStatus::failed,    CallStatus::canceled};

}  // namespace

BOOST_AUTO_TEST_SUITE(call_status)

BOOST_AUTO_TEST_CASE(every_status_reads_back_from_the_word_it_is_written_as) {
  for (const auto status : kEveryCallStatus) {
    BOOST_TEST_CONTEXT(to_string(status)) {
      const auto read = parse_call_status(to_string(status));
      BOOST_REQUIRE(read.has_value());
      BOOST_TEST(static_cast<int>(*read) == static_cast<int>(status));
      const auto as_lead = parse_lead_status(to_string(status));
      BOOST_REQUIRE(as_lead.has_value());
      BOOST_TEST(static_cast<int>(*as_lead) == static_cast<int>(lead_status_of(status)));
    }
  }
  for (const auto status : {LeadStatus::pending, LeadStatus::dialing, LeadStatus::scheduled})
    BOOST_TEST(static_cast<int>(parse_lead_status(to_string(status)).value_or(LeadStatus::failed)) ==
               static_cast<int>(status));
  BOOST_TEST(to_string(CallStatus::in_progress) == "in-progress");  // Twilio's word
  BOOST_TEST(to_string(CallStatus::no_answer) == "no-answer");
  for (const char* unknown : {"", "Completed", "in_progress", "answered", "ringing "})
    BOOST_TEST(!parse_call_status(unknown).has_value(), unknown);
}

BOOST_AUTO_TEST_CASE(a_call_only_moves_forward_and_every_end_is_terminal) {
  // queued < initiated < ringing < in-progress < every final status, which share the top.
  for (std::size_t earlier = 0; earlier + 1 < kEveryCallStatus.size(); ++earlier) {
    const auto later = kEveryCallStatus[earlier + 1];
    BOOST_TEST(rank(kEveryCallStatus[earlier]) <= rank(later));
  }
  for (const auto status : kEveryCallStatus) {
    const bool ends = status == CallStatus::completed || status == CallStatus::busy ||
                      status == CallStatus::no_answer || status == CallStatus::failed || status == CallStatus::canceled;
    BOOST_TEST(is_terminal(status) == ends, to_string(status));
    BOOST_TEST((rank(status) == rank(CallStatus::completed)) == ends, to_string(status));
  }
}

BOOST_AUTO_TEST_SUITE_END()
