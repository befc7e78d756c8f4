#include "core/lead/enquiry.hpp"

#include "core/utf8.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace callgate {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxPhoneInput = 40;
constexpr std::size_t kMaxEmailLength = 254;
// Metadata is a business's own small object (a campaign, a page, a product),
// not a document: eight levels is far more than any form sends, and keeps
// every stored record well inside what the journal's reader accepts.
constexpr std::size_t kMaxMetadataDepth = 8;

enum class Consent { absent, given, refused, malformed };

// The fields as they came, before the rules.
struct RawEnquiry {
  std::optional<std::string> phone, name, email, source;
  Consent consent = Consent::absent;
  std::string metadata_json;
  FieldErrors errors;
};

bool is_plausible_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = email.substr(at + 1);
  const auto dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && dot + 1 < domain.size() &&
         std::none_of(email.begin(), email.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

// How deeply containers nest in a JSON value (a scalar is 0, {} is 1).
// Iterative, so a hostile value cannot exhaust the stack here either.
std::size_t nesting_depth(const json::value& root) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json::value*, std::size_t>> pending{{&root, 0}};
  while (!pending.empty()) {
    const auto [value, depth] = pending.back();
    pending.pop_back();
    if (value->is_object()) {
      deepest = std::max(deepest, depth + 1);
      for (const auto& member : value->get_object()) pending.emplace_back(&member.value(), depth + 1);
    } else if (value->is_array()) {
      deepest = std::max(deepest, depth + 1);
      for (const auto& element : value->get_array()) pending.emplace_back(&element, depth + 1);
    }
  }
  return deepest;
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return (c < ' ' && c != '\t') || c == 0x7f; });
}

std::variant<Enquiry, FieldErrors> validate(RawEnquiry raw, const IntakeConfig& intake) {
  auto& errors = raw.errors;
  Enquiry enquiry;
  if (!raw.phone || raw.phone->empty()) {
    errors.try_emplace("phone", "is required");
  } else if (raw.phone->size() > kMaxPhoneInput) {
    errors.try_emplace("phone", "is too long");
  } else if (!is_valid_utf8(*raw.phone)) {
    errors.try_emplace("phone", "is not valid UTF-8");
  } else {
    auto normalized = normalize_phone_number(*raw.phone, intake.default_country_code);
    if (auto* error = std::get_if<PhoneNumberError>(&normalized))
      errors.try_emplace("phone", error->message);
    else
      enquiry.phone = std::get<PhoneNumber>(normalized);
  }
  switch (raw.consent) {
    case Consent::given:
      break;
    case Consent::absent:
      errors.try_emplace("consent", "is required: the visitor must agree to be called");
      break;
    case Consent::refused:
      errors.try_emplace("consent", "must be true: the visitor must agree to be called");
      break;
    case Consent::malformed:
      errors.try_emplace("consent", "must be true or false");
      break;
  }
  auto bounded = [&](const char* name, const std::optional<std::string>& value, std::size_t limit,
                     std::string& target) {
    if (!value) return;
    if (value->size() > limit)
      errors.try_emplace(name, "is longer than " + std::to_string(limit) + " characters");
    else if (!is_valid_utf8(*value))
      errors.try_emplace(name, "is not valid UTF-8");
    else if (has_control_characters(*value))
      errors.try_emplace(name, "contains control characters");
    else
      target = *value;
  };
  bounded("name", raw.name, intake.max_name_length, enquiry.name);
  bounded("source", raw.source, intake.max_source_length, enquiry.source);
  bounded("email", raw.email, kMaxEmailLength, enquiry.email);
  if (!enquiry.email.empty() && !is_plausible_email(enquiry.email))
    errors.try_emplace("email", "is not an email address");
  if (raw.metadata_json.size() > intake.max_metadata_bytes)
    errors.try_emplace("metadata", "is larger than " + std::to_string(intake.max_metadata_bytes) + " bytes");
  else
    enquiry.metadata_json = std::move(raw.metadata_json);
  if (!errors.empty()) return errors;
  return enquiry;
}

bool is_known_field(std::string_view name) {
  return name == "phone" || name == "consent" || name == "name" || name == "email" || name == "source" ||
         name == "metadata";
}

}  // namespace

std::variant<Enquiry, FieldErrors> read_enquiry_json(const json::value& body, const IntakeConfig& intake) {
  if (!body.is_object()) return FieldErrors{{"body", "must be a JSON object"}};
  RawEnquiry raw;
  for (const auto& member : body.as_object()) {
    const std::string name(member.key());
    const auto& value = member.value();
    if (name == "consent") {
      raw.consent = !value.is_bool() ? Consent::malformed : value.as_bool() ? Consent::given : Consent::refused;
    } else if (name == "metadata") {
      if (value.is_object()) {
        if (nesting_depth(value) > kMaxMetadataDepth)
          raw.errors.try_emplace("metadata", "nests deeper than " + std::to_string(kMaxMetadataDepth) + " levels");
        else
          raw.metadata_json = json::serialize(value);
      } else if (!value.is_null())
        raw.errors.try_emplace("metadata", "must be an object");
    } else if (is_known_field(name)) {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        raw.errors.try_emplace(name, "must be a string");
        continue;
      }
      std::string text(value.as_string());
      if (name == "phone")
        raw.phone = std::move(text);
      else if (name == "name")
        raw.name = std::move(text);
      else if (name == "email")
        raw.email = std::move(text);
      else
        raw.source = std::move(text);
    } else if (intake.unknown_fields == UnknownFields::reject) {
      raw.errors.try_emplace(to_valid_utf8(name.substr(0, 64)), "is not a field callgate knows");
    }
  }
  return validate(std::move(raw), intake);
}

std::variant<Enquiry, FieldErrors> read_enquiry_form(const FormFields& fields, const IntakeConfig& intake) {
  RawEnquiry raw;
  json::object metadata;
  for (const auto& [name, value] : fields) {
    if (name == "phone")
      raw.phone = value;
    else if (name == "name")
      raw.name = value;
    else if (name == "email")
      raw.email = value;
    else if (name == "source")
      raw.source = value;
    else if (name == "consent") {
      const auto given = value == "on" || value == "true" || value == "yes" || value == "1";
      const auto refused = value == "off" || value == "false" || value == "no" || value == "0";
      raw.consent = given ? Consent::given : refused ? Consent::refused : Consent::malformed;
    } else if (name.starts_with("metadata[") && name.ends_with("]") && name.size() > 10) {
      // Served back as JSON later (GET /leads): only text that is UTF-8 gets in.
      if (!is_valid_utf8(name) || !is_valid_utf8(value))
        raw.errors.try_emplace("metadata", "is not valid UTF-8");
      else
        metadata[name.substr(9, name.size() - 10)] = value;
    } else if (intake.unknown_fields == UnknownFields::reject) {
      raw.errors.try_emplace(to_valid_utf8(name.substr(0, 64)), "is not a field callgate knows");
    }
  }
  if (!metadata.empty()) raw.metadata_json = json::serialize(metadata);
  return validate(std::move(raw), intake);
}

}  // namespace callgate
