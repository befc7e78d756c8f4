// Helpers for LeadStore tests: run an operation to completion, build leads,
// attempts and events with readable defaults.
#pragma once

#include "core/lead/lead_id.hpp"
#include "core/store/lead_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

namespace callgate::conformance {

// Runs one store operation to completion on a private io_context.
template <class T>
T run(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.run();
  return future.get();
}

template <class T>
const T& expect(const store::StoreResult<T>& result) {
  if (const auto* error = std::get_if<store::StoreError>(&result)) BOOST_FAIL("store error: " + error->message);
  return std::get<T>(result);
}

inline WallTime at(int seconds) { return WallTime(std::chrono::seconds(1'790'000'000 + seconds)); }

inline Lead make_lead(const std::string& id, const std::string& phone = "+14155550123", int created = 0) {
  Lead lead;
  lead.id = id;
  lead.phone = phone;
  lead.name = "Asha";
  lead.metadata_json = R"({"campaign":"diwali"})";
  lead.consent = {at(created), "203.0.113.9", "Mozilla/5.0", "v3"};
  lead.created = at(created);
  lead.updated = at(created);
  return lead;
}

inline CallEvent make_event(const std::string& call_sid, CallStatus status, std::uint64_t sequence,
                            const std::string& lead_id = "", const std::string& provider = "twilio") {
  CallEvent event;
  event.provider = provider;
  event.call_sid = call_sid;
  event.lead_id = lead_id;
  event.status = status;
  event.raw_status = std::string(to_string(status));
  event.sequence_number = sequence;
  return event;
}

inline Attempt make_attempt(const std::string& call_sid, int created = 1, const std::string& provider = "twilio") {
  Attempt attempt;
  attempt.provider = provider;
  attempt.call_sid = call_sid;
  attempt.created = at(created);
  return attempt;
}

}  // namespace callgate::conformance
