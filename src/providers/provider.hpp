// The one interface every telephony provider implements, and the table
// that holds them. A provider lives in its own folder with the same files
// (client: the Create-call request and its answer; webhook: status
// callbacks and how they are authenticated; call_flow: the documents the
// provider fetches during a call; provider: this interface over them).
// Adding a provider means adding a folder and a line in provider_table.cpp
// (its config section, telephony.<name>, is its settings.hpp; CONTRIBUTING.md
// lists every step).
//
// Everything here is pure except register_call_flow_endpoints, which only
// wires handlers; the HTTPS exchange happens in place_call (below), once,
// for all providers.
#pragma once

#include "http/form/form_codec.hpp"

#include "core/config.hpp"
#include "core/lead/lead.hpp"
#include "http/client/exchange.hpp"
#include "http/server/server_shard.hpp"
#include "providers/place_call_outcome.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace callgate {
namespace store {
class LeadStore;
}
namespace http {
class HttpClient;
}
}  // namespace callgate

namespace callgate::providers {

// What placing one call needs to know.
struct CallOrder {
  std::string lead_id;
  std::string to;  // E.164
};

// An inbound request from (supposedly) a provider. Every byte is untrusted.
struct InboundRequest {
  const http::Request& request;
  std::string public_url;  // the URL the provider called, rebuilt (see public_url.hpp)
  boost::asio::ip::address peer;

  // The body as form fields (an empty body is an empty form), or null when
  // it is not one. Parsed on first use and kept: the signature check and the
  // callback's parser both read it, and it is the hot path.
  const http::FormFields* form_fields() const {
    if (!parsed_form) parsed_form = request.body().empty() ? http::FormFields{} : http::parse_form(request.body());
    return *parsed_form ? &**parsed_form : nullptr;
  }
  mutable std::optional<std::optional<http::FormFields>> parsed_form = std::nullopt;
};

struct WebhookRejected {
  std::string reason;  // short and fixed ("bad_signature", "missing_token", ...): a metric label and the 403 body
};

struct WebhookMalformed {
  std::string message;  // for the 400 answer
};

// What the call-flow endpoints need besides the request.
struct WebhookMetricIds;
// Signs the one-time token a served call flow hands a bridged media stream
// (config, lead id, call sid); empty when no media bridge runs.
using StreamTokenIssuer = std::function<std::string(const Config&, std::string_view, std::string_view)>;

// Downloads a provider's finished recording for the lead (request context,
// lead id, the recording as listed); empty when nothing downloads them.
using RecordingFetcher = std::function<void(http::RequestContext&, const std::string&, const Recording&)>;

struct CallFlowServices {
  store::LeadStore& store;
  const WebhookMetricIds& metric_ids;
  const StreamTokenIssuer& stream_tokens;
  const RecordingFetcher& fetch_recording;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Its section of the config (settings.hpp in its folder), whose name is the provider's.
  virtual const ProviderConfigSection& config_section() const = 0;
  const ProviderName& name() const { return config_section().name(); }

  // The Create-call request, complete: URL, authorization, form body.
  virtual http::ClientRequest build_place_call_request(const Config& config, const CallOrder& order) const = 0;
  // How the provider's answer to it (or the lack of one) is to be taken.
  virtual PlaceCallOutcome classify_place_call_response(const ProviderResponse& response) const = 0;

  // Settling an ambiguous placement: the request for the calls to a number
  // since a moment, and how its answer is read.
  virtual http::ClientRequest build_find_calls_request(const Config& config, const CallLookup& lookup) const = 0;
  virtual LookupOutcome classify_find_calls_response(const ProviderResponse& response,
                                                     const CallLookup& lookup) const = 0;
  // How long after a placement a call missing from that list proves it was
  // never placed (Exotel lists a call only once it has ended).
  virtual std::chrono::seconds lookup_settles_after(const Config& config) const = 0;

  // Nothing when the request provably comes from the provider.
  virtual std::optional<WebhookRejected> authenticate_webhook(const Config& config,
                                                              const InboundRequest& request) const = 0;
  // Whether an unlabelled POST /webhook looks like this provider's.
  virtual bool recognizes_webhook(const http::Request& request) const = 0;
  // A status callback as a normalized event. lead_id comes from the
  // callback URL (leadId) or the provider's own custom field.
  virtual std::variant<CallEvent, WebhookMalformed> parse_status_callback(const InboundRequest& request) const = 0;

  // The endpoints the provider fetches during a call (/twiml, /exotel/passthru).
  virtual void register_call_flow_endpoints(http::HttpRouter& router, CallFlowServices services) const = 0;

  // Where its REST API lives (scheme, host, port), for connections opened
  // ahead of the calls; empty when there are none worth opening.
  virtual std::string api_base(const Config&) const { return {}; }

  // The account's pace for new calls (calls a minute); 0: unpaced.
  virtual unsigned calls_per_minute(const Config&) const { return 0; }

  // The provider whose wire format this one plays, if it plays another's
  // (the simulator fetches Twilio's call flow as Twilio would, signed with
  // its own token): that provider's call-flow endpoints take its requests too.
  virtual std::optional<ProviderName> imitates(const Config&) const { return std::nullopt; }

  // Fills in what the config leaves to be made at start (the simulator's
  // random token), before anything reads it. Not on a reload.
  virtual void prepare_for_start(Config&) const {}
  // What the operator must hear about at start: settings that weaken
  // security, for development only. Each an event name and a detail.
  struct StartWarning {
    std::string event;
    std::string detail;
  };
  virtual std::vector<StartWarning> start_warnings(const Config&) const { return {}; }

  // True for a provider whose callbacks mean nothing unless it places the
  // calls (the simulator: its account lives in this process). Its webhook
  // endpoint then answers 404 whenever it is not in use. A real provider's
  // callbacks are taken whatever the config says now: calls placed before a
  // switch of provider still report how they ended.
  virtual bool callbacks_only_while_in_use() const { return false; }
};

// The providers callgate knows, by name.
const Provider* find_provider(const ProviderName& name);
std::span<const Provider* const> all_providers();
// Their config sections, for the loader (load_config_file).
ProviderSections config_sections();

// Asks the provider for a call to lookup.to since lookup.since. Never throws.
boost::asio::awaitable<LookupOutcome> find_calls(const Provider& provider, const Config& config,
                                                 http::HttpClient& client, CallLookup lookup);

// Asks the provider to place the call through the reactor's HTTP client.
// Never throws; every failure is classified.
boost::asio::awaitable<PlaceCallOutcome> place_call(const Provider& provider, const Config& config,
                                                    http::HttpClient& client, CallOrder order);

}  // namespace callgate::providers
