// The enquiry form as a visitor meets it: GET / (the page, strict
// Content-Security-Policy, works without script), GET /embed.js (the script
// the page and any business's site load; it renders or enhances the form)
// and GET /embed.css.
#pragma once

#include "http/server/server_shard.hpp"

namespace callgate::http {

void register_enquiry_form_endpoints(HttpRouter& router);

// What /embed.js is called with: the config's consent text and default
// country code, as a JSON object.
std::string embed_settings_json(const Config& config);

}  // namespace callgate::http
