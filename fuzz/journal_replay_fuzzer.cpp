// The journal as a start reads it: records found, damage told from a torn
// tail, each payload parsed as the replay parses it; and the repair, whose
// output must read back clean with every intact record.
#include "core/lead/lead_json.hpp"
#include "core/store/journal_record.hpp"
#include "core/store/journal_repair.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void replay_payload(std::string_view payload) {
  boost::system::error_code error;
  const auto value = callgate::parse_stored_json(payload, error);
  if (error || !value.is_object()) return;
  const auto& object = value.as_object();
  if (const auto* lead = object.if_contains("lead")) (void)callgate::lead_from_json(*lead);
  if (const auto* event = object.if_contains("event")) (void)callgate::call_event_from_json(*event);
  if (const auto* attempt = object.if_contains("attempt")) (void)callgate::attempt_from_json(*attempt);
  if (const auto* input = object.if_contains("input")) (void)callgate::call_flow_input_from_json(*input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  callgate::store::JournalReader reader(input, callgate::store::kJournalSyncWindowBytes);
  std::string_view payload;
  std::uint64_t read = 0;
  while (reader.next(payload)) {
    replay_payload(payload);
    ++read;
  }
  const auto inspection = callgate::store::inspect_journal(input);
  if (inspection.records < read) std::abort();  // the inspection finds at least what a start reads
  const auto repaired = callgate::store::intact_records(input);
  callgate::store::JournalReader again(repaired);
  std::uint64_t kept = 0;
  while (again.next(payload)) ++kept;
  if (again.stop() != callgate::store::JournalReader::Stop::clean_end || kept != inspection.records) std::abort();
  return 0;
}
