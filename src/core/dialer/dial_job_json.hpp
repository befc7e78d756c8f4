// A dial job as JSON, the same in every scheduler backend (the embedded
// journal's records, the Redis job hashes) and readable by an operator.
#pragma once

#include "core/dialer/dial_scheduler.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace callgate::dialer {

boost::json::object job_json(const DialJob& job);
// The same object written straight onto out (the journal's job records).
void append_job_json(std::string& out, const DialJob& job);
// Nothing when a field is missing or of the wrong type.
std::optional<DialJob> job_from_json(const boost::json::value* value);

}  // namespace callgate::dialer
