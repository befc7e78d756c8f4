// The enquiry form's static files, compiled in from assets/ (so the daemon
// needs no files beside it): the script a page or a business's site loads,
// and its stylesheet.
#pragma once

#include <string_view>

namespace callgate::http {

// assets/embed.js: a function expression, to be called with the settings.
std::string_view embed_script();
std::string_view embed_stylesheet();  // assets/embed.css

}  // namespace callgate::http
