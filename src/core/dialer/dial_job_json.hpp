// A dial job as JSON, the same in every scheduler backend (the embedded
// journal's records, the Redis job hashes) and readable by an operator.
#pragma once

#include "core/dialer/dial_scheduler.hpp"
#include "core/json_object_writer.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace callgate::dialer {

boost::json::object job_json(const DialJob& job);
// The same fields written straight as text, into an object being written
// (the journal's job records, and a finished job's next one).
void write_job_fields(JsonObjectWriter& object, const DialJob& job);
// Nothing when a field is missing or of the wrong type.
std::optional<DialJob> job_from_json(const boost::json::value* value);

}  // namespace callgate::dialer
