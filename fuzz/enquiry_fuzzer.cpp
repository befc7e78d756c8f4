// The enquiry reader, from JSON as POST /enquire parses it and from form
// fields. Whatever it accepts must be storable: its metadata must read
// back with the reader the journal's replay uses (issue 18, defect 1).
#include "core/lead/enquiry.hpp"
#include "core/lead/lead_json.hpp"
#include "core/utf8.hpp"
#include "http/form/form_codec.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check_storable(const std::variant<callgate::Enquiry, callgate::FieldErrors>& read) {
  const auto* enquiry = std::get_if<callgate::Enquiry>(&read);
  if (!enquiry) return;
  if (!callgate::is_valid_utf8(enquiry->name) || !callgate::is_valid_utf8(enquiry->email) ||
      !callgate::is_valid_utf8(enquiry->source))
    std::abort();
  if (enquiry->metadata_json.empty()) return;
  // As stored: the lead's record nests the metadata a few levels deeper.
  const std::string record = R"({"op":"lead","lead":{"metadata":)" + enquiry->metadata_json + "}}";
  boost::system::error_code error;
  (void)callgate::parse_stored_json(record, error);
  if (error) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const callgate::IntakeConfig intake;
  boost::system::error_code error;
  const auto body = boost::json::parse(input, error);
  if (!error) check_storable(callgate::read_enquiry_json(body, intake));
  if (const auto fields = callgate::http::parse_form(input))
    check_storable(callgate::read_enquiry_form(*fields, intake));
  return 0;
}
