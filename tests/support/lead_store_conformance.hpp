// The behaviour every LeadStore backend must share, as typed test cases.
// A test file defines its backends (each a type with open() returning a
// store, reopen() for durable ones, and a static bool durable) as the type
// list LeadStoreBackends, then includes this header inside a test suite.
//
//   struct MemoryBackend { ... };
//   using LeadStoreBackends = boost::mpl::list<MemoryBackend>;
//   BOOST_AUTO_TEST_SUITE(memory_store_conformance)
//   #include "lead_store_conformance.hpp"
//   BOOST_AUTO_TEST_SUITE_END()
//
// (No include guard on purpose: each inclusion makes one suite's cases.)

// lead_store_test_helpers.hpp must be included before the suite opens.

BOOST_AUTO_TEST_CASE_TEMPLATE(a_created_lead_reads_back_whole, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  const auto created = expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  BOOST_TEST(created.created);
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST(lead.phone == "+14155550123");
  BOOST_TEST(lead.name == "Asha");
  BOOST_TEST(lead.metadata_json == R"({"campaign":"diwali"})");
  BOOST_TEST(lead.consent.client_address == "203.0.113.9");
  BOOST_TEST(lead.consent.text_version == "v3");
  BOOST_TEST((lead.status == LeadStatus::pending));
  BOOST_TEST((std::get<store::StoreError>(run(store->get("01B"))).failure == store::StoreFailure::not_found));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_idempotency_key_makes_one_lead, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  BOOST_TEST(expect(run(store->create({make_lead("01A"), "key-1", std::nullopt}))).created);
  const auto again = expect(run(store->create({make_lead("01B", "+14155550999"), "key-1", std::nullopt})));
  BOOST_TEST(!again.created);
  BOOST_TEST(again.lead.id == "01A");
  BOOST_TEST((std::get<store::StoreError>(run(store->get("01B"))).failure == store::StoreFailure::not_found));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(the_same_phone_inside_the_window_returns_the_existing_lead, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  BOOST_TEST(expect(run(store->create({make_lead("01A", "+14155550123", 0), "", std::nullopt}))).created);
  const auto inside = expect(run(store->create({make_lead("01B", "+14155550123", 100), "", at(100 - 600)})));
  BOOST_TEST(!inside.created);
  BOOST_TEST(inside.lead.id == "01A");
  const auto after = expect(run(store->create({make_lead("01C", "+14155550123", 1000), "", at(1000 - 600)})));
  BOOST_TEST(after.created);
  const auto other_phone = expect(run(store->create({make_lead("01D", "+14155550124", 1001), "", at(1001 - 600)})));
  BOOST_TEST(other_phone.created);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(racing_creates_with_one_key_store_one_lead, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < 4; ++thread)
    threads.emplace_back([&, thread] {
      for (int index = 0; index < 50; ++index) {
        const auto id = "01T" + std::to_string(thread) + "-" + std::to_string(index);
        const auto result = run(store->create({make_lead(id), "key-" + std::to_string(index), std::nullopt}));
        if (std::get<store::CreateResult>(result).created) ++created;
      }
    });
  for (auto& thread : threads) thread.join();
  BOOST_TEST(created.load() == 50);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(events_move_the_lead_through_the_state_machine, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  BOOST_TEST(
      (expect(run(store->add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing))).status == LeadStatus::dialing));
  const std::pair<CallStatus, EventOutcome> sequence[] = {
      {CallStatus::initiated, EventOutcome::applied},    {CallStatus::in_progress, EventOutcome::applied},
      {CallStatus::ringing, EventOutcome::out_of_order}, {CallStatus::in_progress, EventOutcome::duplicate},
      {CallStatus::completed, EventOutcome::applied},    {CallStatus::busy, EventOutcome::anomaly},
  };
  std::uint64_t number = 0;
  for (const auto& [status, expected] : sequence) {
    // The duplicate repeats the earlier in-progress exactly.
    const auto sequence_number = expected == EventOutcome::duplicate ? 1 : number;
    const auto applied =
        expect(run(store->apply_event(make_event("CA1", status, sequence_number), at(10 + int(number)))));
    BOOST_TEST((applied.outcome == expected), to_string(status));
    BOOST_TEST(applied.lead_id == "01A");
    ++number;
  }
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST((lead.status == LeadStatus::completed));
  BOOST_TEST_REQUIRE(lead.attempts.size() == 1u);
  BOOST_TEST((lead.attempts[0].status == CallStatus::completed));
  BOOST_TEST(lead.events.size() == 5u);  // the duplicate is not recorded again
  BOOST_TEST(expect(run(store->find_lead_by_call_sid("CA1"))).value_or("") == "01A");
  BOOST_TEST(!expect(run(store->find_lead_by_call_sid("CA2"))).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(orphans_wait_for_their_call, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  const auto orphan = expect(run(store->apply_event(make_event("CA9", CallStatus::ringing, 1), at(5))));
  BOOST_TEST((orphan.outcome == EventOutcome::unknown_call));
  BOOST_TEST(orphan.lead_id.empty());
  const auto lead = expect(run(store->add_attempt("01A", make_attempt("CA9"), LeadStatus::dialing)));
  BOOST_TEST((lead.status == LeadStatus::ringing));
  BOOST_TEST(lead.events.size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_lost_placement_answer_is_recovered_from_the_callback, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  Attempt ambiguous = make_attempt("");
  ambiguous.error = "ambiguous: timed out waiting for the answer";
  run(store->add_attempt("01A", ambiguous, LeadStatus::dialing));
  const auto applied = expect(run(store->apply_event(make_event("CA5", CallStatus::ringing, 1, "01A"), at(5))));
  BOOST_TEST((applied.outcome == EventOutcome::applied));
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST(lead.attempts.back().call_sid == "CA5");
  BOOST_TEST((lead.status == LeadStatus::ringing));
  // Another provider's callback naming the lead is not taken for it.
  run(store->add_attempt("01A", make_attempt("", 6, "exotel"), LeadStatus::dialing));
  const auto other = expect(run(store->apply_event(make_event("CA6", CallStatus::ringing, 1, "01A", "twilio"), at(7))));
  BOOST_TEST((other.outcome == EventOutcome::unknown_call));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(listing_pages_by_creation_with_filters, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  // Ids as the daemon makes them: their time is their lead's creation.
  std::vector<std::string> ids;
  LeadIdGenerator generator;
  for (int index = 0; index < 7; ++index) {
    ids.push_back(generator.next(at(index * 10)));
    run(store->create({make_lead(ids.back(), "+1415555010" + std::to_string(index), index * 10), "", std::nullopt}));
  }
  run(store->add_attempt(ids[3], make_attempt("CA3"), LeadStatus::dialing));
  auto first = expect(run(store->list({std::nullopt, std::nullopt, 3, ""})));
  BOOST_TEST_REQUIRE(first.leads.size() == 3u);
  BOOST_TEST(first.leads[0].id == ids[0]);
  BOOST_TEST(first.next_cursor == ids[2]);
  auto second = expect(run(store->list({std::nullopt, std::nullopt, 3, first.next_cursor})));
  BOOST_TEST(second.leads[0].id == ids[3]);
  auto last = expect(run(store->list({std::nullopt, std::nullopt, 3, ids[5]})));
  BOOST_TEST(last.leads.size() == 1u);
  BOOST_TEST(last.next_cursor.empty());
  auto dialing = expect(run(store->list({LeadStatus::dialing, std::nullopt, 10, ""})));
  BOOST_TEST_REQUIRE(dialing.leads.size() == 1u);
  BOOST_TEST(dialing.leads[0].id == ids[3]);
  auto recent = expect(run(store->list({std::nullopt, at(45), 10, ""})));
  BOOST_TEST_REQUIRE(recent.leads.size() == 2u);
  BOOST_TEST(recent.leads[0].id == ids[5]);
  // Since a time, after a cursor: the later of the two.
  auto after_cursor = expect(run(store->list({std::nullopt, at(45), 10, ids[5]})));
  BOOST_TEST_REQUIRE(after_cursor.leads.size() == 1u);
  BOOST_TEST(after_cursor.leads[0].id == ids[6]);
  auto cursor_before_since = expect(run(store->list({std::nullopt, at(45), 10, ids[1]})));
  BOOST_TEST(cursor_before_since.leads.size() == 2u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(call_flow_input_is_kept_with_the_lead, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  CallFlowInput input{"twilio", "CA1", "1", "call me tomorrow", 0.93, "", at(20)};
  BOOST_TEST(expect(run(store->record_call_flow_input("01A", input))).call_flow_inputs.size() == 1u);
  BOOST_TEST((std::get<store::StoreError>(run(store->record_call_flow_input("nope", input))).failure ==
              store::StoreFailure::not_found));
  BOOST_TEST(
      (std::get<store::StoreError>(run(store->add_attempt("nope", make_attempt("CA2"), LeadStatus::dialing))).failure ==
       store::StoreFailure::not_found));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_media_stream_is_claimed_once_and_ended_once, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  const MediaStream stream{"nonce-1", "CA1", "twilio", "MZ1", at(10), std::nullopt, "", ""};
  const auto claimed = expect(run(store->update_lead("01A", stream)));
  BOOST_TEST((claimed.decision.outcome == UpdateOutcome::changed));
  BOOST_TEST(claimed.lead.media_streams.size() == 1u);
  // The same token again, on any host: refused, and the lead keeps one stream.
  auto again = stream;
  again.stream_sid = "MZ2";
  again.started = at(11);
  const auto reused = expect(run(store->update_lead("01A", again)));
  BOOST_TEST((reused.decision.outcome == UpdateOutcome::refused));
  BOOST_TEST(reused.decision.reason == "the stream's token was used before");
  // Even the very same claim again is refused: a replayed upgrade must not pass for a retried write.
  BOOST_TEST((expect(run(store->update_lead("01A", stream))).decision.outcome == UpdateOutcome::refused));
  const auto ended = expect(run(store->update_lead("01A", MediaStreamEnd{"nonce-1", at(40), "agent_unavailable", ""})));
  BOOST_TEST((ended.decision.outcome == UpdateOutcome::changed));
  BOOST_TEST(
      (expect(run(store->update_lead("01A", MediaStreamEnd{"nonce-1", at(41), "completed", ""}))).decision.outcome ==
       UpdateOutcome::unchanged));
  BOOST_TEST(
      (expect(run(store->update_lead("01A", MediaStreamEnd{"nonce-9", at(41), "completed", ""}))).decision.outcome ==
       UpdateOutcome::refused));
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST_REQUIRE(lead.media_streams.size() == 1u);
  BOOST_TEST(lead.media_streams[0].outcome == "agent_unavailable");
  BOOST_TEST((lead.media_streams[0].ended == at(40)));
  BOOST_TEST((lead.updated == at(40)));
  BOOST_TEST(
      (std::get<store::StoreError>(run(store->update_lead("nope", stream))).failure == store::StoreFailure::not_found));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(recordings_and_transcript_lines_are_kept_in_order, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  Recording recording{"RE1", "twilio", "CA1", "in-progress", "",    "https://api.twilio.com/RE1", std::nullopt,
                      2,     "",       "",    at(10),        at(10)};
  run(store->update_lead("01A", recording));
  auto completed = recording;
  completed.status = "completed";
  completed.provider_url.clear();  // a later report that leaves the URL out keeps it
  completed.duration_ms = 12'000;
  completed.updated = at(30);
  run(store->update_lead("01A", completed));
  auto late = recording;  // an in-progress report arriving after completed
  late.updated = at(31);
  BOOST_TEST((expect(run(store->update_lead("01A", late))).decision.outcome == UpdateOutcome::unchanged));
  run(store->update_lead("01A", TranscriptEntry{"CA1", "agent", "agent", "Hello Asha", "", at(12)}));
  run(store->update_lead("01A", TranscriptEntry{"CA1", "agent", "caller", "Hi", "", at(14)}));
  run(store->update_lead("01A", TranscriptEntry{"CA1", "twilio", "caller", "Hi there", "completed", at(13)}));
  BOOST_TEST((expect(run(store->update_lead("01A", TranscriptEntry{"CA1", "agent", "caller", "Hi", "", at(14)})))
                  .decision.outcome == UpdateOutcome::unchanged));
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST_REQUIRE(lead.recordings.size() == 1u);
  BOOST_TEST(lead.recordings[0].status == "completed");
  BOOST_TEST(lead.recordings[0].provider_url == "https://api.twilio.com/RE1");
  BOOST_TEST(lead.recordings[0].duration_ms.value_or(0) == 12'000);
  BOOST_TEST_REQUIRE(lead.transcript.size() == 3u);
  BOOST_TEST(lead.transcript[0].text == "Hello Asha");
  BOOST_TEST(lead.transcript[1].text == "Hi there");
  BOOST_TEST(lead.transcript[2].text == "Hi");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(concurrent_events_for_one_lead_are_all_applied, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  Backend backend;
  auto store = backend.open();
  run(store->create({make_lead("01A"), "", std::nullopt}));
  for (int call = 0; call < 4; ++call)
    run(store->add_attempt("01A", make_attempt("CA" + std::to_string(call)), LeadStatus::dialing));
  std::vector<std::thread> threads;
  for (int call = 0; call < 4; ++call)
    threads.emplace_back([&, call] {
      std::uint64_t sequence = 0;
      for (auto status : {CallStatus::initiated, CallStatus::ringing, CallStatus::in_progress, CallStatus::completed})
        run(store->apply_event(make_event("CA" + std::to_string(call), status, sequence++), at(30)));
    });
  for (auto& thread : threads) thread.join();
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST(lead.events.size() == 16u);
  for (const auto& attempt : lead.attempts) BOOST_TEST((attempt.status == CallStatus::completed));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(everything_acknowledged_is_there_after_a_reopen, Backend, LeadStoreBackends) {
  using namespace callgate;
  using namespace callgate::conformance;
  if constexpr (!Backend::durable) {
    BOOST_TEST_MESSAGE("this backend keeps nothing across a restart by design");
    BOOST_TEST(!Backend::durable);
  } else {
    Backend backend;
    {
      auto store = backend.open();
      run(store->create({make_lead("01A"), "key-A", std::nullopt}));
      run(store->add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing));
      run(store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(3)));
      run(store->apply_event(make_event("CA1", CallStatus::completed, 2), at(4)));
      run(store->apply_event(make_event("CA-orphan", CallStatus::busy, 1), at(5)));
      run(store->record_call_flow_input("01A", {"twilio", "CA1", "2", "", std::nullopt, "", at(6)}));
      run(store->update_lead("01A", MediaStream{"nonce-1", "CA1", "twilio", "MZ1", at(7), std::nullopt, "", ""}));
      run(store->update_lead("01A", MediaStreamEnd{"nonce-1", at(8), "hangup", ""}));
      run(store->update_lead("01A", Recording{"bridge-MZ1", "bridge", "CA1", "completed", "01A-MZ1.wav", "", 1'000, 2,
                                              "wav/pcm16", "", at(7), at(8)}));
      run(store->update_lead("01A", TranscriptEntry{"CA1", "agent", "agent", "Hello", "", at(7)}));
    }
    auto store = backend.reopen();
    const auto lead = expect(run(store->get("01A")));
    BOOST_TEST((lead.status == LeadStatus::completed));
    BOOST_TEST(lead.events.size() == 2u);
    BOOST_TEST(lead.call_flow_inputs.size() == 1u);
    BOOST_TEST(lead.media_streams.size() == 1u);
    BOOST_TEST(lead.media_streams.at(0).outcome == "hangup");
    BOOST_TEST(lead.recordings.size() == 1u);
    BOOST_TEST(lead.recordings.at(0).file == "01A-MZ1.wav");
    BOOST_TEST(lead.transcript.size() == 1u);
    // A replay applies each update again and must refuse the claim it made: the lead is as it was.
    BOOST_TEST((expect(run(store->update_lead(
                           "01A", MediaStream{"nonce-1", "CA1", "twilio", "MZ1", at(7), std::nullopt, "", ""})))
                    .decision.outcome == UpdateOutcome::refused));
    BOOST_TEST(lead.attempts.at(0).call_sid == "CA1");
    BOOST_TEST(!expect(run(store->create({make_lead("01B"), "key-A", std::nullopt}))).created);
    run(store->create({make_lead("01C"), "", std::nullopt}));
    const auto adopted = expect(run(store->add_attempt("01C", make_attempt("CA-orphan"), LeadStatus::dialing)));
    BOOST_TEST((adopted.status == LeadStatus::busy));
  }
}
