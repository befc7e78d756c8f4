#include "http/endpoints/enquiry_page.hpp"

#include "core/markup_escape.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

namespace callgate::http {
namespace {

namespace beast_http = boost::beast::http;

std::string error_slot(std::string_view field, const SubmittedForm& form) {
  const auto found = form.errors.find(std::string(field));
  std::string slot = "<p class=\"callgate-error\" id=\"callgate-" + std::string(field) + "-error\" data-error-for=\"" +
                     std::string(field) + "\"";
  if (found != form.errors.end()) slot += " role=\"alert\"";
  slot += ">";
  if (found != form.errors.end()) slot += escape_markup(found->second);
  return slot + "</p>";
}

std::string invalid_mark(std::string_view field, const SubmittedForm& form) {
  return form.errors.contains(std::string(field)) ? " aria-invalid=\"true\"" : "";
}

std::string page(std::string_view title, const std::string& content) {
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escape_markup(title) +
         "</title>\n<link rel=\"stylesheet\" href=\"/embed.css\">\n<script src=\"/embed.js\" defer></script>\n"
         "</head>\n<body>\n<main class=\"callgate\">\n" +
         content + "</main>\n</body>\n</html>\n";
}

}  // namespace

SubmittedForm submitted_form(const FormFields& fields) {
  SubmittedForm form;
  form.phone = std::string(form_value(fields, "phone").value_or("").substr(0, 64));
  form.name = std::string(form_value(fields, "name").value_or("").substr(0, 256));
  const auto consent = form_value(fields, "consent").value_or("");
  form.consent = consent == "on" || consent == "true" || consent == "yes" || consent == "1";
  return form;
}

std::string render_enquiry_page(const Config& config, const SubmittedForm& form) {
  const auto& intake = config.intake;
  std::string content =
      "<h1>Request a call back</h1>\n<p>Leave your number and we will call you right away.</p>\n"
      "<form class=\"callgate-form\" method=\"post\" action=\"/enquire\" data-callgate>\n";
  if (!form.message.empty())
    content += "<p class=\"callgate-status\" role=\"alert\">" + escape_markup(form.message) + "</p>\n";
  content +=
      "<div class=\"callgate-field\">\n<label for=\"callgate-phone\">Phone number</label>\n"
      "<input id=\"callgate-phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" inputmode=\"tel\" required "
      "maxlength=\"32\" placeholder=\"+" +
      escape_markup(intake.default_country_code) + " \" value=\"" + escape_markup(form.phone) + "\"" +
      invalid_mark("phone", form) +
      " aria-describedby=\"callgate-phone-hint callgate-phone-error\">\n"
      "<p class=\"callgate-hint\" id=\"callgate-phone-hint\">Numbers without a country code are taken as +" +
      escape_markup(intake.default_country_code) + ".</p>\n" + error_slot("phone", form) + "\n</div>\n";
  content +=
      "<div class=\"callgate-field\">\n<label for=\"callgate-name\">Your name (optional)</label>\n"
      "<input id=\"callgate-name\" name=\"name\" type=\"text\" autocomplete=\"name\" maxlength=\"" +
      std::to_string(intake.max_name_length) + "\" value=\"" + escape_markup(form.name) + "\"" +
      invalid_mark("name", form) + " aria-describedby=\"callgate-name-error\">\n" + error_slot("name", form) +
      "\n</div>\n";
  content +=
      "<div class=\"callgate-field callgate-consent\">\n"
      "<input id=\"callgate-consent\" name=\"consent\" type=\"checkbox\" value=\"true\" required" +
      std::string(form.consent ? " checked" : "") + invalid_mark("consent", form) +
      " aria-describedby=\"callgate-consent-error\">\n<label for=\"callgate-consent\">" +
      escape_markup(intake.consent_text) + "</label>\n" + error_slot("consent", form) + "\n</div>\n";
  content +=
      "<button type=\"submit\">Call me back</button>\n"
      "<p class=\"callgate-status\" role=\"status\" aria-live=\"polite\" data-callgate-status></p>\n</form>\n";
  return page("Request a call back", content);
}

Response render_enquiry_answer(const Config& config, const Response& json_answer, const FormFields& submitted) {
  boost::system::error_code error;
  const auto parsed = boost::json::parse(json_answer.body(), error);
  const auto* answer = !error && parsed.is_object() ? &parsed.as_object() : nullptr;
  auto text = [&](std::string_view name) -> std::string {
    const auto* value = answer ? answer->if_contains(name) : nullptr;
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
  };

  if (json_answer.result() == Status::accepted && text("status") == "duplicate") {
    const std::string content =
        "<h1>Thank you</h1>\n<p class=\"callgate-status\" role=\"status\" data-status=\"duplicate\">"
        "We already have a request for this number: we will call you shortly.</p>\n";
    return make_page_response(Status::accepted, page("We are calling you", content));
  }
  if (json_answer.result() == Status::accepted) {
    const std::string content = "<h1>Thank you</h1>\n<p class=\"callgate-status\" role=\"status\" data-status=\"" +
                                escape_markup(text("status")) +
                                "\">We are calling you now.</p>\n<p>Your reference: <code>" +
                                escape_markup(text("leadId")) + "</code></p>\n";
    return make_page_response(Status::accepted, page("We are calling you", content));
  }
  auto form = submitted_form(submitted);
  if (json_answer.result() == Status::unprocessable_entity && answer)
    if (const auto* fields = answer->if_contains("fields"); fields && fields->is_object())
      for (const auto& [name, message] : fields->as_object())
        if (message.is_string()) form.errors[std::string(name)] = std::string(message.as_string());
  form.message = json_answer.result() == Status::unprocessable_entity ? "Please check the form." : text("error");
  if (form.message.empty()) form.message = "Something went wrong. Please try again.";
  auto response = make_page_response(json_answer.result(), render_enquiry_page(config, form));
  if (const auto retry_after = json_answer[beast_http::field::retry_after]; !retry_after.empty())
    response.set(beast_http::field::retry_after, retry_after);
  return response;
}

Response make_page_response(Status status, std::string body) {
  Response response{status, 11};
  response.set(beast_http::field::content_type, "text/html; charset=utf-8");
  response.set("Content-Security-Policy", kPageSecurityPolicy);
  response.set(beast_http::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  // Nothing to other sites; to callgated itself the page's origin, which a
  // browser then puts in its form post's Origin (with no-referrer it sends
  // "null", which POST /enquire cannot tell from a hostile sandboxed page).
  response.set("Referrer-Policy", "same-origin");
  response.body() = std::move(body);
  return response;
}

bool wants_html_answer(const Request& request) {
  const auto type = request[beast_http::field::content_type];
  if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded") return false;
  return request[beast_http::field::accept].find("text/html") != std::string_view::npos;
}

}  // namespace callgate::http
