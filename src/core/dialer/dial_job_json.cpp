#include "core/dialer/dial_job_json.hpp"

namespace callgate::dialer {

namespace json = boost::json;

json::object job_json(const DialJob& job) {
  json::object object;
  object["leadId"] = job.lead_id;
  object["call"] = job.call;
  object["failures"] = job.failures;
  object["due"] = format_iso8601(job.due);
  if (!job.reason.empty()) object["reason"] = job.reason;
  if (job.slot_reserved) object["slotReserved"] = true;
  if (job.check) {
    json::object check;
    check["provider"] = job.check->provider;
    check["since"] = format_iso8601(job.check->since);
    check["lookups"] = job.check->lookups;
    check["failedLookups"] = job.check->failed_lookups;
    object["check"] = std::move(check);
  }
  return object;
}

void write_job_fields(JsonObjectWriter& object, const DialJob& job) {
  object.text("leadId", job.lead_id);
  object.number("call", job.call);
  object.number("failures", job.failures);
  object.time("due", job.due);
  object.text_if_any("reason", job.reason);
  if (job.slot_reserved) object.boolean("slotReserved", true);
  if (job.check) {
    auto check = object.object("check");
    check.text("provider", job.check->provider);
    check.time("since", job.check->since);
    check.number("lookups", job.check->lookups);
    check.number("failedLookups", job.check->failed_lookups);
    check.close();
  }
}

std::optional<DialJob> job_from_json(const json::value* value) {
  if (!value || !value->is_object()) return std::nullopt;
  const auto& object = value->as_object();
  const auto* lead = object.if_contains("leadId");
  const auto* call = object.if_contains("call");
  const auto* failures = object.if_contains("failures");
  const auto* due = object.if_contains("due");
  if (!lead || !lead->is_string() || !call || !call->is_int64() || !failures || !failures->is_int64() || !due ||
      !due->is_string())
    return std::nullopt;
  const auto due_time = parse_iso8601(due->as_string());
  if (!due_time) return std::nullopt;
  DialJob job;
  job.lead_id = std::string(lead->as_string());
  job.call = static_cast<int>(call->as_int64());
  job.failures = static_cast<int>(failures->as_int64());
  job.due = *due_time;
  // Optional, but never of another type: a job half-read is a job misread.
  if (const auto* reason = object.if_contains("reason")) {
    if (!reason->is_string()) return std::nullopt;
    job.reason = reason->as_string();
  }
  if (const auto* reserved = object.if_contains("slotReserved")) {
    if (!reserved->is_bool()) return std::nullopt;
    job.slot_reserved = reserved->as_bool();
  }
  if (const auto* check_value = object.if_contains("check")) {
    const auto* check = check_value->if_object();
    const auto* provider = check ? check->if_contains("provider") : nullptr;
    const auto* since = check ? check->if_contains("since") : nullptr;
    const auto* lookups = check ? check->if_contains("lookups") : nullptr;
    const auto* failed = check ? check->if_contains("failedLookups") : nullptr;
    const auto since_time = since && since->is_string() ? parse_iso8601(since->as_string()) : std::nullopt;
    if (!provider || !provider->is_string() || !since_time || !lookups || !lookups->is_int64() || !failed ||
        !failed->is_int64())
      return std::nullopt;
    job.check = AmbiguousCheck{std::string(provider->as_string()), *since_time, static_cast<int>(lookups->as_int64()),
                               static_cast<int>(failed->as_int64())};
  }
  return job;
}

}  // namespace callgate::dialer
