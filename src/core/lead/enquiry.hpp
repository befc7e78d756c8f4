// An enquiry from a web form (POST /enquire), read from JSON or form fields
// and validated field by field. Pure: the handler supplies the config and
// gets back either a clean enquiry or every problem at once, for a 422.
#pragma once

#include "core/config.hpp"
#include "core/form_fields.hpp"
#include "core/lead/phone_number.hpp"

#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <variant>

namespace callgate {

struct Enquiry {
  PhoneNumber phone;
  std::string name;
  std::string email;
  std::string source;
  std::string metadata_json;  // an object, serialized; empty when none came
};

// Field name -> what is wrong with it.
using FieldErrors = std::map<std::string, std::string>;

// From a JSON body. Not an object at all is reported as the field "body".
std::variant<Enquiry, FieldErrors> read_enquiry_json(const boost::json::value& body, const IntakeConfig& intake);

// From an HTML form: consent is a checkbox ("on", "true", "yes" or "1").
// Form posts carry no metadata object; metadata[key]=value fields are
// gathered into one.
std::variant<Enquiry, FieldErrors> read_enquiry_form(const FormFields& fields, const IntakeConfig& intake);

}  // namespace callgate
