// The enquiry page (GET /) and the pages a plain form post gets back when
// the browser runs no script. Pure: rendered from the config and what was
// submitted; every value is escaped (core/markup_escape.hpp).
#pragma once

#include "core/config.hpp"
#include "http/form/form_codec.hpp"
#include "http/server/responses.hpp"

#include <map>
#include <string>
#include <string_view>

namespace callgate::http {

// What the visitor typed and what was wrong with it, to show the form again.
struct SubmittedForm {
  std::string phone;
  std::string name;
  bool consent = false;
  std::map<std::string, std::string> errors;  // by field name
  std::string message;                        // about the whole form
};
SubmittedForm submitted_form(const FormFields& fields);

std::string render_enquiry_page(const Config& config, const SubmittedForm& form = {});

// The page for a form post's answer, from the JSON answer /enquire gives:
// 202 a confirmation with the lead's id, 422 the form again with each
// error beside its field, anything else the form again with the error.
Response render_enquiry_answer(const Config& config, const Response& json_answer, const FormFields& submitted);

// The Content-Security-Policy of every page here: nothing but this origin's
// own script and stylesheet.
inline constexpr std::string_view kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// An HTML page with the headers every page here carries (the policy above,
// no caching, no sniffing, no referrer).
Response make_page_response(Status status, std::string body);

// Whether a form post comes from a browser that will show the answer as a
// page (its Accept asks for HTML), rather than from a script.
bool wants_html_answer(const Request& request);

}  // namespace callgate::http
