#include "daemon/daemon.hpp"

#include "http/endpoints/enquiry_form_endpoints.hpp"

#include <boost/url/parse.hpp>

#include "core/config_loader.hpp"
#include "core/crypto.hpp"
#include "core/dialer/embedded_dial_scheduler.hpp"
#include "core/dialer/redis_dial_scheduler.hpp"
#include "core/log.hpp"
#include "core/spawn.hpp"
#include "core/store/journal_lead_store.hpp"
#include "core/store/memory_lead_store.hpp"
#include "core/store/redis_lead_store.hpp"
#include "daemon/version.hpp"
#include "events/event_endpoints.hpp"

#include "aws/dynamodb_lead_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace callgate {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

unsigned reactor_count(const ServerConfig& server) {
  if (server.threads != 0) return server.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// The Redis store's and the dial scheduler's connection, from the config
// (the URL was validated with it).
redis::ConnectionOptions redis_connection(const StoreConfig& store) {
  auto options = *redis::parse_redis_url(store.redis_url);
  options.command_timeout = store.redis_command_timeout;
  options.ca_file = store.redis_ca_file;
  options.cert_file = store.redis_cert_file;
  options.key_file = store.redis_key_file;
  return options;
}

// A store other hosts may share, reached over the network: webhook events
// wait in the spool while it is away.
bool networked(StoreBackend backend) { return backend == StoreBackend::redis || backend == StoreBackend::dynamodb; }

std::unique_ptr<store::LeadStore> open_store(const Config& config, const std::vector<asio::io_context*>& reactors,
                                             store::JournalGuest* journal_guest, events::EventOutbox* outbox,
                                             const DynamoDbStart* dynamodb) {
  const auto& store = config.store;
  // Without the embedded dialer as its guest, the journal must not hold its records.
  std::optional<store::AbsentGuest> absent_guest;
  if (!journal_guest) absent_guest = dialer::EmbeddedDialScheduler::absent_from_lead_journal();
  std::vector<store::JournalGuest*> guests;
  if (journal_guest) guests.push_back(journal_guest);
  if (outbox) guests.push_back(outbox);
  switch (store.backend) {
    case StoreBackend::memory:
      LogLine(LogLevel::warn, "memory_store").trusted_text("detail", "store.backend is memory: leads last until exit");
      return std::make_unique<store::MemoryLeadStore>(outbox);
    case StoreBackend::journal: {
      auto journal = std::make_unique<store::JournalLeadStore>(store::JournalStoreOptions{
          store.journal_path, store.journal_compact_bytes,
          store::OrphanLimits{static_cast<std::size_t>(store.journal_orphans_in_memory),
                              std::chrono::duration_cast<std::chrono::seconds>(store.journal_orphan_wait),
                              static_cast<std::size_t>(store.journal_orphan_memory_bytes)},
          store.journal_max_syncs_per_second, std::move(guests), std::move(absent_guest),
          // events.endpoints emptied: what the outbox wrote is about endpoints no longer there.
          outbox ? std::vector<std::string_view>{} : events::EventOutbox::record_kinds(), outbox});
      LogLine(LogLevel::info, "journal_replayed")
          .trusted_text("path", journal->path())
          .number("records", static_cast<std::int64_t>(journal->replay().records))
          .number("torn_bytes_dropped", static_cast<std::int64_t>(journal->replay().torn_bytes_dropped));
      return journal;
    }
    case StoreBackend::redis: {
      store::RedisStoreOptions options;
      options.connection = redis_connection(store);
      options.key_prefix = store.redis_key_prefix;
      options.orphan_wait = store.redis_orphan_wait;
      // Beside the spool: this host's own directory (redis_epoch.hpp).
      options.epoch_file = (std::filesystem::path(store.spool_path) / "redis.epoch").string();
      return std::make_unique<store::RedisLeadStore>(reactors, std::move(options));
    }
    case StoreBackend::dynamodb: {
      return std::make_unique<aws::DynamoLeadStore>(reactors,
                                                    dynamodb_store_options(store, config.telephony.http_client),
                                                    credentials_from(dynamodb->credentials));
    }
  }
  throw std::logic_error("unknown store backend");
}

// Moves spooled webhook events into the store whenever it is back.
asio::awaitable<void> drain_spool(store::EventSpool& spool, store::LeadStore& store,
                                  store::EventSpool::AppliedEvent applied) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(500ms);
    auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    if (spool.pending() > 0 && !store.problem()) co_await spool.replay_into(store, applied);
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

Daemon::Daemon(std::string config_path, Config config, SystemdNotifier notifier)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      notifier_(std::move(notifier)),
      signals_(control_, SIGTERM, SIGINT, SIGHUP),
      watchdog_timer_(control_),
      drain_timer_(control_) {}

Daemon::~Daemon() {
  for (auto& parts : reactors_) parts.reactor->stop();
  for (auto& parts : reactors_) parts.reactor->join();
  // The dialer's timer belongs to a reactor's loop; the scheduler's and the
  // store's own threads (journal writers) post completions into the
  // reactors' loops: all of them go first, while those loops still exist.
  dialer_.reset();
  simulated_account_.reset();
  scheduler_ = nullptr;
  redis_scheduler_.reset();
  dynamodb_scheduler_.reset();
  embedded_scheduler_.reset();
  spool_.reset();
  store_.reset();
  // With the threads gone: end every session still parked in a loop, then
  // destroy each I/O object before the io_context it belongs to.
  for (auto& parts : reactors_) {
    parts.listener.reset();
    parts.provider_calls.reset();
    parts.http_client.reset();
    // A start-up failure (a taken port) can leave later reactors half built.
    if (parts.shard) parts.shard->shut_down();
    parts.shard.reset();
    parts.reactor.reset();
  }
}

void Daemon::build() {
  // Before the store is opened: a second daemon on this port must not touch
  // anything on its way to failing.
  if (!config_.server.reuse_port) http::ensure_no_other_listener(config_.server.listen);
  http::check_descriptor_limit(config_.server.max_connections, reactor_count(config_.server));
  for (const auto* provider : providers::all_providers()) provider->prepare_for_start(config_);
  http_metric_ids_ = http::declare_http_metrics(metrics_);
  const auto build_info = metrics_.declare_gauge("callgate_build_info", "Always 1; the labels name the build.");
  const auto reactors_gauge = metrics_.declare_gauge("callgate_reactors", "Reactor threads serving requests.");
  metrics_.declare_counter_function("callgate_log_lines_dropped_total",
                                    "Log lines dropped because the log reader (journald) fell behind.",
                                    &log_lines_dropped);
  metrics_.declare_counter_function("callgate_task_failures_total",
                                    "Background work (sessions, dialer, spool, Redis) that ended with an exception; "
                                    "each is logged as task_failed, and loops are started again.",
                                    &task_failures);
  http::register_builtin_endpoints(router_, metrics_, readiness_checks_);
  webhook_metric_ids_ = providers::declare_webhook_metrics(metrics_);
  lead_metric_ids_ = http::declare_lead_metrics(metrics_);

  const unsigned count = reactor_count(config_.server);
  std::vector<asio::io_context*> reactor_loops;
  for (unsigned index = 0; index < count; ++index) {
    ReactorParts parts;
    parts.reactor = std::make_unique<Reactor>(index);
    reactor_loops.push_back(&parts.reactor->io());
    reactors_.push_back(std::move(parts));
  }

  // With the journal store, the dialer's jobs go in the lead journal unless
  // dialer.path sends them elsewhere: built first, replayed by the store.
  const bool jobs_in_lead_journal = config_.store.backend == StoreBackend::journal && config_.dialer.path.empty();
  if (jobs_in_lead_journal)
    embedded_scheduler_ = std::make_unique<dialer::EmbeddedDialScheduler>(
        dialer::EmbeddedDialScheduler::InLeadJournal{}, config_.store.journal_path);
  if (config_.store.backend == StoreBackend::dynamodb)
    dynamodb_ = start_dynamodb(config_.store, config_.telephony.http_client, process_environment(), TableStep::prepare);
  // Before the store: the journal's replay tells it of every change again.
  if (!config_.events.endpoints.empty())
    outbox_ = std::make_unique<events::EventOutbox>(events::outbox_endpoints(config_.events),
                                                    events::retry_policy(config_.events));
  store_ =
      open_store(config_, reactor_loops, embedded_scheduler_.get(), outbox_.get(), dynamodb_ ? &*dynamodb_ : nullptr);
  if (jobs_in_lead_journal)
    embedded_scheduler_->attach(dynamic_cast<store::JournalLeadStore&>(*store_).writer_for_guest());
  if (outbox_) build_event_delivery();
  events::register_event_endpoints(router_, outbox_.get(), system_clock());
  readiness_checks_.push_back(
      {"store", [this](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> {
         co_return store_->problem();
       }});
  const auto store_check = readiness_checks_.size() - 1;
  if (auto* redis = dynamic_cast<store::RedisLeadStore*>(store_.get())) {
    readiness_checks_.push_back({"redis_data",
                                 [redis](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> {
                                   co_return redis->data_loss();
                                 },
                                 true});
    metrics_.declare_counter_function("callgate_redis_data_loss_detected_total",
                                      "Connects that found Redis emptied or replaced (its epoch gone or changed): "
                                      "leads stored before are not in it.",
                                      [redis] { return redis->data_losses_detected(); });
    // What the lead store asks of Redis (the dial scheduler's connections
    // are apart): divided by callgate_webhook_events_total, the commands
    // and bytes a callback costs the one Redis a fleet shares.
    metrics_.declare_counter_function("callgate_redis_store_commands_total",
                                      "Commands the lead store sent to Redis (a script's call is one).",
                                      [redis] { return redis->traffic().commands; });
    metrics_.declare_counter_function("callgate_redis_store_sent_bytes_total", "Bytes the lead store sent to Redis.",
                                      [redis] { return redis->traffic().bytes_sent; });
    metrics_.declare_counter_function("callgate_redis_store_received_bytes_total",
                                      "Bytes the lead store received from Redis.",
                                      [redis] { return redis->traffic().bytes_received; });
  }
  // A networked store can be away for a while: webhooks wait in the spool.
  // While the spool takes them, the store being away degrades the host
  // (enquiries and calls wait) but it still does its most pressing job, so
  // /readyz stays 200; once the spool cannot be written either, 503.
  if (networked(config_.store.backend)) {
    spool_ = std::make_unique<store::EventSpool>(config_.store.spool_path);
    // Only once the store has been there: a host that never reached its
    // store is not ready to take enquiries, whatever its spool could do.
    // (DynamoDB was reached at start, when the table was checked.)
    auto* redis = dynamic_cast<store::RedisLeadStore*>(store_.get());
    spool_carries_ = [this, redis] { return (redis == nullptr || redis->has_connected()) && !spool_->problem(); };
    readiness_checks_[store_check].carried_by_fallback = spool_carries_;
    readiness_checks_.push_back({"spool",
                                 [this](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> {
                                   if (spool_->pending() == 0) co_return std::nullopt;
                                   co_return std::to_string(spool_->pending()) + " webhook events wait for the store";
                                 },
                                 true});
    readiness_checks_.push_back(
        {"spool_writes", [this](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> {
           co_return spool_->problem();
         }});
  }
  metrics_.declare_gauge_function("callgate_spool_events", "Webhook events in the spool, waiting for the store.",
                                  [this] { return spool_ ? static_cast<std::int64_t>(spool_->pending()) : 0; });
  metrics_.declare_gauge_function("callgate_spool_oldest_age_seconds", "Age of the oldest event in the spool.",
                                  [this] { return spool_ ? spool_->oldest_age_seconds(WallClock::now()) : 0; });
  if (const auto* journal = dynamic_cast<const store::JournalLeadStore*>(store_.get())) {
    metrics_.declare_gauge_function("callgate_journal_bytes", "Size of the journal file (leads.journal), in bytes.",
                                    [journal] { return static_cast<std::int64_t>(journal->writer().file_bytes()); });
    metrics_.declare_gauge_function("callgate_journal_syncs",
                                    "fdatasync calls on the journal since start (one per group commit).",
                                    [journal] { return static_cast<std::int64_t>(journal->writer().syncs()); });
    metrics_.declare_gauge_function(
        "callgate_journal_sync_microseconds_total", "Time spent in the journal's fdatasync calls since start.",
        [journal] { return static_cast<std::int64_t>(journal->writer().sync_times().total_microseconds); });
    metrics_.declare_gauge_function(
        "callgate_journal_longest_sync_microseconds", "The journal's slowest fdatasync since start.",
        [journal] { return static_cast<std::int64_t>(journal->writer().sync_times().longest_microseconds); });
    metrics_.declare_gauge_function(
        "callgate_journal_slow_syncs",
        "Journal fdatasync calls over 50 ms since start: the disk stalled, and every answer waiting on it with it.",
        [journal] { return static_cast<std::int64_t>(journal->writer().sync_times().slow); });
    metrics_.declare_histogram_source(
        "callgate_journal_sync_seconds",
        "How long each of the journal's fdatasync calls took: every answer waiting on a sync waits this long on top.",
        journal->writer().sync_seconds());
    metrics_.declare_gauge_function("callgate_journal_compactions",
                                    "Snapshots that replaced the journal file since start (written in the background).",
                                    [journal] { return static_cast<std::int64_t>(journal->compactions()); });
    metrics_.declare_gauge_function("callgate_journal_compacting",
                                    "1 while a snapshot of the journal is being written, else 0.",
                                    [journal] { return journal->compacting() ? 1 : 0; });
    metrics_.declare_gauge_function("callgate_orphan_events_in_memory",
                                    "Status callbacks for calls not (yet) known, waiting in memory for their call sid.",
                                    [journal] { return static_cast<std::int64_t>(journal->orphans_in_memory()); });
  }
  // The dialer's jobs: in Redis with the Redis store (shared by every host
  // on it), else beside the journal's files (the memory store: in memory).
  if (config_.store.backend == StoreBackend::redis) {
    dialer::RedisSchedulerOptions options;
    options.connection = redis_connection(config_.store);
    options.key_prefix = config_.store.redis_key_prefix;
    redis_scheduler_ =
        std::make_unique<dialer::RedisDialScheduler>(reactors_.front().reactor->io(), std::move(options));
    scheduler_ = redis_scheduler_.get();
  } else if (config_.store.backend == StoreBackend::dynamodb) {
    dynamodb_scheduler_ = std::make_unique<aws::DynamoDialScheduler>(
        reactors_.front().reactor->io(), dynamodb_store_options(config_.store, config_.telephony.http_client),
        credentials_from(dynamodb_->credentials));
    scheduler_ = dynamodb_scheduler_.get();
  } else {
    // dialer.path (empty with the memory store: in memory only).
    if (!embedded_scheduler_)
      embedded_scheduler_ = std::make_unique<dialer::EmbeddedDialScheduler>(config_.dialer.path);
    scheduler_ = embedded_scheduler_.get();
  }
  readiness_checks_.push_back(
      {"dialer", [this](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> {
         co_return scheduler_->problem();
       }});
  // The dialer's jobs in the same store: away with it, and carried the same way.
  if (spool_carries_) readiness_checks_.back().carried_by_fallback = spool_carries_;
  if (dynamodb_) declare_dynamodb_metrics();
  // The reactors' HTTPS clients, summed: connections opened (handshakes,
  // warm ones included) against requests that found one ready.
  auto sum_clients = [this](std::atomic<std::uint64_t> http::HttpClientStatistics::*statistic) {
    return [this, statistic] {
      std::uint64_t total = 0;
      for (const auto& parts : reactors_)
        if (parts.http_client) total += (parts.http_client->statistics().*statistic).load(std::memory_order_relaxed);
      return static_cast<std::int64_t>(total);
    };
  };
  metrics_.declare_counter_function("callgate_provider_connections_opened_total",
                                    "Connections to providers opened (TCP and TLS handshakes), ahead or on demand.",
                                    sum_clients(&http::HttpClientStatistics::connections_opened));
  metrics_.declare_counter_function("callgate_provider_connections_reused_total",
                                    "Provider requests sent over a connection that was already open.",
                                    sum_clients(&http::HttpClientStatistics::connections_reused));
  metrics_.declare_gauge_function("callgate_dial_jobs_due", "Dial jobs due and not yet claimed.", [this] {
    return static_cast<std::int64_t>(scheduler_->counts(WallClock::now()).due);
  });
  metrics_.declare_gauge_function(
      "callgate_dial_jobs_waiting", "Dial jobs due later (retries, redials, calling hours).",
      [this] { return static_cast<std::int64_t>(scheduler_->counts(WallClock::now()).waiting); });
  metrics_.declare_gauge_function("callgate_dial_jobs_in_flight", "Dial jobs claimed by a worker.", [this] {
    return static_cast<std::int64_t>(scheduler_->counts(WallClock::now()).in_flight);
  });
  shared_config_.store(std::make_shared<const Config>(config_));
  dialer_ = std::make_unique<dialer::Dialer>(
      reactors_.front().reactor->io(), *scheduler_, *store_, [this] { return shared_config_.load(); },
      dialer::declare_dialer_metrics(metrics_, lead_metric_ids_.calls_placed));
  if (outbox_) dialer_->tell_decisions_to(*outbox_);
  if (auto* dynamodb_store = dynamic_cast<aws::DynamoLeadStore*>(store_.get()); dynamodb_store && dynamodb_scheduler_) {
    dynamodb_first_jobs_ = std::make_unique<aws::DynamoLeadsWithFirstJobs>(*dynamodb_store, *dynamodb_scheduler_);
    dialer_->keep_first_jobs_with_leads(*dynamodb_first_jobs_);
  }
  if (auto* journal = dynamic_cast<store::JournalLeadStore*>(store_.get()); journal && embedded_scheduler_ &&
                                                                            embedded_scheduler_->in_lead_journal() &&
                                                                            scheduler_ == embedded_scheduler_.get()) {
    journal_first_jobs_ = std::make_unique<dialer::JournalLeadsWithFirstJobs>(*journal, *embedded_scheduler_);
    dialer_->keep_first_jobs_with_leads(*journal_first_jobs_);
  }

  media_gateway_ = std::make_unique<voice::MediaGateway>(*store_, metrics_);
  stream_tokens_ = [gateway = media_gateway_.get()](const Config& config, std::string_view lead_id,
                                                    std::string_view call_sid) {
    return gateway->issue_token(config, lead_id, call_sid);
  };
  fetch_recording_ = [gateway = media_gateway_.get()](http::RequestContext& context, const std::string& lead_id,
                                                      const Recording& recording) {
    gateway->fetch_recording(context.shard.io(), context.shard.config(), lead_id, recording);
  };
  providers::register_webhook_endpoints(router_, *store_, webhook_metric_ids_, spool_.get(), dialer_.get(),
                                        &stream_tokens_, &fetch_recording_);
  media_gateway_->register_endpoints(router_);
  if (config_.call_flow.next == CallFlowStep::stream && config_.call_flow.stream_url.empty() &&
      config_.voice.stream_secret.empty() && config_.admin.token.empty())
    LogLine(LogLevel::warn, "stream_tokens_for_this_host_only")
        .trusted_text("detail",
                      "neither voice.stream_secret nor admin.token is set: stream tokens are signed with a key of "
                      "this process, so a stream that reaches another host (or this one after a restart) is refused");
  rate_limiter_ = std::make_unique<http::SharedRateLimiter>(config_.intake.rate_per_minute, config_.intake.rate_burst);
  status_rate_limiter_ = std::make_unique<http::SharedRateLimiter>(config_.intake.status_rate_per_minute,
                                                                   config_.intake.status_rate_burst);
  lead_services_ = std::make_unique<http::LeadServices>(
      http::LeadServices{*store_, *rate_limiter_, *status_rate_limiter_, lead_metric_ids_, *dialer_, *scheduler_});
  http::register_lead_endpoints(router_, *lead_services_);
  http::register_enquiry_form_endpoints(router_);
  if (provider_in_use(config_.telephony, providers::simulator::simulator_section().name())) {
    simulated_account_ = std::make_unique<providers::simulator::SimulatedAccount>(
        providers::simulator::declare_account_metrics(metrics_), providers::simulator::settings_of(config_).seed);
    simulated_account_->register_endpoints(router_);
    LogLine(LogLevel::info, "simulator_in_use")
        .trusted_text("detail", "calls go to the simulated account at " + config_.server.public_base_url +
                                    "/simulator/calls; no phone rings");
  }
  for (const auto* provider : providers::all_providers())
    for (const auto& warning : provider->start_warnings(config_))
      LogLine(LogLevel::warn, warning.event).trusted_text("detail", warning.detail);

  // Connections are refused per reactor; the kernel spreads accepts about
  // evenly, so each reactor takes its share of the daemon-wide limit.
  const unsigned per_reactor_limit = std::max(1u, (config_.server.max_connections + count - 1) / count);

  ListenAddress address = config_.server.listen;
  for (unsigned index = 0; index < count; ++index) {
    auto& parts = reactors_[index];
    auto& shard_metrics = metrics_.add_shard();
    if (index == 0) {
      shard_metrics.gauge(build_info, {{"version", version()}}).set(1);
      shard_metrics.gauge(reactors_gauge).set(count);
    }
    auto acceptor = http::open_listening_socket(parts.reactor->io(), address);
    // Port 0 asks the kernel for a free port; the other reactors must then
    // share the port the first one got, not each get their own.
    if (address.port == 0) address.port = acceptor.local_endpoint().port();
    parts.shard = std::make_unique<http::ServerShard>(parts.reactor->io(), std::make_shared<const Config>(config_),
                                                      router_, shard_metrics, http_metric_ids_, per_reactor_limit,
                                                      connections_by_address_);
    parts.listener = std::make_unique<http::Listener>(std::move(acceptor), *parts.shard);
    parts.http_client = std::make_unique<http::HttpClient>(parts.reactor->io(), config_.telephony.http_client);
    parts.provider_calls = std::make_unique<providers::ProviderCallsOverHttp>(*parts.http_client);
    dialer_->attach(parts.reactor->io(), *parts.provider_calls, shard_metrics);
    media_gateway_->attach(parts.reactor->io(), *parts.http_client, shard_metrics);
    if (simulated_account_) simulated_account_->attach(parts.reactor->io(), *parts.http_client, shard_metrics);
    // Deliveries run on the first reactor, with a client of their own.
    if (event_delivery_ && index == 0)
      event_delivery_->start(parts.reactor->io(), shard_metrics, event_metric_ids_,
                             config_.telephony.http_client.ca_file);
  }
  bound_address_ = address;
  if (simulated_account_) warn_if_simulator_calls_elsewhere();
}

// What DynamoDB has been asked and what it cost, the store's and the
// dialer's requests summed: what the business pays AWS for.
void Daemon::build_event_delivery() {
  events::EventDelivery::WaitDurable wait_durable = [](std::uint64_t) -> asio::awaitable<bool> { co_return true; };
  if (auto* journal = dynamic_cast<store::JournalLeadStore*>(store_.get())) {
    auto& writer = journal->writer_for_guest();
    outbox_->keep_records_with([&writer](std::string_view payload) { return writer.append(payload); });
    wait_durable = [&writer](std::uint64_t ticket) -> asio::awaitable<bool> {
      const auto [error] = co_await writer.async_wait_durable(ticket, asio::as_tuple(asio::use_awaitable));
      co_return !error;
    };
  }
  outbox_->start_endpoints();
  event_delivery_ =
      std::make_unique<events::EventDelivery>(*outbox_, config_.events, std::move(wait_durable), system_clock());
  event_metric_ids_ = events::declare_event_metrics(metrics_);
}

void Daemon::declare_dynamodb_metrics() {
  auto* lead_store = dynamic_cast<aws::DynamoLeadStore*>(store_.get());
  auto sum = [lead_store, this](std::atomic<std::int64_t> aws::DynamoUsage::*counter) {
    return [lead_store, this, counter] {
      return (lead_store->usage().*counter).load(std::memory_order_relaxed) +
             (dynamodb_scheduler_->usage().*counter).load(std::memory_order_relaxed);
    };
  };
  metrics_.declare_counter_function("callgate_dynamodb_requests_total",
                                    "Requests callgate made of DynamoDB (each once, however often tried).",
                                    sum(&aws::DynamoUsage::requests));
  metrics_.declare_counter_function("callgate_dynamodb_write_requests_total", "Of those, writes.",
                                    sum(&aws::DynamoUsage::write_requests));
  metrics_.declare_counter_function("callgate_dynamodb_retries_total",
                                    "Tries beyond a request's first: throttled, DynamoDB's faults, no answer.",
                                    sum(&aws::DynamoUsage::retries));
  metrics_.declare_counter_function("callgate_dynamodb_failures_total",
                                    "Requests that got no usable answer in time (a webhook then waits in the spool).",
                                    sum(&aws::DynamoUsage::failures));
  metrics_.declare_counter_function(
      "callgate_dynamodb_write_milliunits_total",
      "Write capacity used on the table, in thousandths of a WCU, by AWS's rules from the items written "
      "or refused by their condition, which AWS charges too (index writes not included).",
      sum(&aws::DynamoUsage::estimated_write_milli));
  metrics_.declare_counter_function("callgate_dynamodb_reported_write_milliunits_total",
                                    "Write capacity as DynamoDB reported it (ReturnConsumedCapacity), in thousandths.",
                                    sum(&aws::DynamoUsage::write_capacity_milli));
  metrics_.declare_counter_function("callgate_dynamodb_reported_read_milliunits_total",
                                    "Read capacity as DynamoDB reported it, in thousandths of an RCU.",
                                    sum(&aws::DynamoUsage::read_capacity_milli));
  // The same by what the requests were for: what a status callback, an
  // enquiry, a placed call costs.
  auto by_work = [lead_store, this](std::atomic<std::int64_t> aws::DynamoWorkUsage::*counter) {
    return [lead_store, this, counter] {
      std::vector<std::pair<std::string, std::int64_t>> values;
      for (std::size_t index = 0; index < aws::kDynamoWorks; ++index)
        values.emplace_back(aws::to_string(static_cast<aws::DynamoWork>(index)),
                            (lead_store->usage().by_work[index].*counter).load(std::memory_order_relaxed) +
                                (dynamodb_scheduler_->usage().by_work[index].*counter).load(std::memory_order_relaxed));
      return values;
    };
  };
  metrics_.declare_counter_function("callgate_dynamodb_work_requests_total",
                                    "Requests made of DynamoDB, by the work they were for.", "work",
                                    by_work(&aws::DynamoWorkUsage::requests));
  metrics_.declare_counter_function("callgate_dynamodb_work_write_requests_total", "Of those, writes.", "work",
                                    by_work(&aws::DynamoWorkUsage::write_requests));
  metrics_.declare_counter_function("callgate_dynamodb_work_write_milliunits_total",
                                    "Write capacity by AWS's rules (index writes not included), thousandths of a "
                                    "WCU, by the work it was for.",
                                    "work", by_work(&aws::DynamoWorkUsage::estimated_write_milli));
  metrics_.declare_counter_function("callgate_dynamodb_work_reported_write_milliunits_total",
                                    "Write capacity as DynamoDB reported it, thousandths of a WCU, by the work it "
                                    "was for.",
                                    "work", by_work(&aws::DynamoWorkUsage::write_capacity_milli));
}

// The simulator places its calls at server.public_base_url. A loopback URL
// on another port than this daemon's is almost always a listen address
// changed without it: the calls would go to whatever listens there.
void Daemon::warn_if_simulator_calls_elsewhere() const {
  const auto url = boost::urls::parse_absolute_uri(config_.server.public_base_url);
  if (!url) return;
  const auto host = url->host();
  const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1";
  const std::uint16_t port = url->has_port() ? url->port_number() : (url->scheme() == "https" ? 443 : 80);
  if (!loopback || port == bound_address_.port) return;
  LogLine(LogLevel::warn, "simulator_calls_elsewhere")
      .trusted_text("public_base_url", config_.server.public_base_url)
      .trusted_text("listening_on", bound_address_.to_string())
      .trusted_text("detail",
                    "the simulator places its calls at server.public_base_url, which is not this daemon: "
                    "set it to this daemon's address");
}

int Daemon::run() {
  set_log_level(config_.log.level);
  build();
  store_->start();
  media_gateway_->start(reactors_.front().reactor->io(), config_);
  if (redis_scheduler_) redis_scheduler_->start();
  if (dynamodb_ && dynamodb_->refresh) {
    // Temporary credentials (a role's): replaced before they expire, on the first reactor.
    auto& io = reactors_.front().reactor->io();
    credentials_refresh_stop_ = std::make_unique<StopSignal>(io.get_executor());
    spawn_task(io,
               aws::keep_credentials_fresh(*dynamodb_->credentials, dynamodb_->chain, *reactors_.front().http_client,
                                           credentials_refresh_stop_->token(), system_clock()),
               "AWS credentials refresh");
  }
  if (spool_) {
    // A call's end that waited in the spool still gets its redial decided.
    auto* dialer = dialer_.get();
    store::EventSpool::AppliedEvent applied = [dialer, &io = reactors_.front().reactor->io()](
                                                  const store::ApplyResult& result, const CallEvent& event) {
      if (result.outcome == EventOutcome::applied && !result.lead_id.empty() && is_terminal(event.status))
        spawn_task(io, dialer->call_ended(result.lead_id, event.call_sid), "dialer deciding a redial");
    };
    spawn_loop(
        reactors_.front().reactor->io(),
        [this, applied = std::move(applied)] { return drain_spool(*spool_, *store_, applied); }, "spool replay");
  }
  dialer_->start();
  for (auto& parts : reactors_)
    spawn_loop(
        parts.reactor->io(),
        [this, client = parts.http_client.get()] {
          return http::keep_connections_warm(*client, [this] { return connections_to_keep_warm(); });
        },
        "provider connection warm-up");
  // DynamoDB's too, from each reactor's store client: the first webhook
  // after a quiet spell finds a connection (and TLS session) ready.
  if (auto* dynamodb_store = dynamic_cast<aws::DynamoLeadStore*>(store_.get()))
    for (const auto& [io, client] : dynamodb_store->clients())
      spawn_loop(
          *io,
          [this, client = client] {
            return http::keep_connections_warm(*client, [this] { return dynamodb_connections_to_keep_warm(); });
          },
          "DynamoDB connection warm-up");

  for (auto& parts : reactors_) {
    auto* listener = parts.listener.get();
    asio::post(parts.reactor->io(), [listener] { listener->start(); });
    parts.reactor->start([this](std::string reason) {
      asio::post(control_, [this, reason] {
        LogLine(LogLevel::error, "stopping_after_failure").text("reason", reason);
        exit_code_ = 1;
        if (!shutting_down_) begin_shutdown();
      });
    });
  }

  const auto listen_text = bound_address_.to_string();
  LogLine(LogLevel::info, "listening")
      .trusted_text("address", listen_text)
      .number("port", bound_address_.port)
      .number("reactors", static_cast<std::int64_t>(reactors_.size()))
      .trusted_text("version", version())
      .trusted_text("store", to_string(config_.store.backend))
      .trusted_text("provider", to_string(config_.telephony.provider));
  notifier_.ready("listening on " + listen_text);

  wait_for_signals();
  schedule_watchdog();
  control_.run();

  for (auto& parts : reactors_) parts.reactor->stop();
  for (auto& parts : reactors_) parts.reactor->join();
  LogLine(LogLevel::info, "stopped").number("exit_code", exit_code_);
  return exit_code_;
}

void Daemon::wait_for_signals() {
  signals_.async_wait([this](boost::system::error_code error, int signal) {
    if (error) return;
    if (signal == SIGHUP) {
      reload();
    } else if (!shutting_down_) {
      LogLine(LogLevel::info, "shutdown_requested").trusted_text("signal", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      begin_shutdown();
    } else {
      // A second SIGTERM/SIGINT while draining: the operator wants out now.
      LogLine(LogLevel::warn, "shutdown_forced");
      finish(exit_code_);
      return;
    }
    wait_for_signals();
  });
}

void Daemon::reload() {
  notifier_.reloading();
  auto loaded = load_config_file(config_path_, process_environment(), providers::config_sections());
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors)
      LogLine(LogLevel::error, "reload_rejected").text("error", error.to_string());
    LogLine(LogLevel::warn, "reload_kept_running_config").trusted_text("file", config_path_);
    notifier_.ready("reload failed; running config kept");
    return;
  }
  auto plan = plan_reload(config_, loaded.config);
  config_ = plan.effective;
  shared_config_.store(std::make_shared<const Config>(config_));
  set_log_level(config_.log.level);
  for (auto& parts : reactors_) {
    auto* shard = parts.shard.get();
    // Each reactor gets its own copy: its shared_ptr count is then touched
    // by that reactor alone, never bounced between cores.
    auto snapshot = std::make_shared<const Config>(config_);
    asio::post(parts.reactor->io(), [shard, snapshot] { shard->replace_config(snapshot); });
  }
  LogLine(LogLevel::info, "reloaded")
      .trusted_text("applied", join(plan.applied))
      .trusted_text("needs_restart", join(plan.needs_restart));
  if (!plan.needs_restart.empty())
    LogLine(LogLevel::warn, "reload_needs_restart").trusted_text("keys", join(plan.needs_restart));
  notifier_.ready("listening on " + bound_address_.to_string());
}

http::WarmPlan Daemon::connections_to_keep_warm() const {
  const auto config = shared_config_.load();
  http::WarmPlan plan;
  plan.connections = config->telephony.http_client.warm_connections;
  plan.idle_timeout = config->telephony.http_client.idle_timeout;
  for (const auto* provider : providers::all_providers())
    if (provider_in_use(config->telephony, provider->name()))
      plan.targets.push_back({std::string(to_string(provider->name())), provider->api_base(*config)});
  return plan;
}

http::WarmPlan Daemon::dynamodb_connections_to_keep_warm() const {
  const auto config = shared_config_.load();
  http::WarmPlan plan;
  plan.connections = config->telephony.http_client.warm_connections;
  plan.idle_timeout = config->telephony.http_client.idle_timeout;
  plan.targets.push_back(
      {"dynamodb", dynamodb_store_options(config->store, config->telephony.http_client).endpoint.url});
  return plan;
}

void Daemon::begin_shutdown() {
  shutting_down_ = true;
  notifier_.stopping();
  watchdog_timer_.cancel();
  // No more jobs claimed while requests drain; placements under way go on.
  dialer_->stop();
  media_gateway_->stop();
  if (event_delivery_) event_delivery_->stop();
  if (credentials_refresh_stop_) credentials_refresh_stop_->stop();
  for (auto& parts : reactors_) {
    auto* listener = parts.listener.get();
    auto* shard = parts.shard.get();
    asio::post(parts.reactor->io(), [this, listener, shard] {
      listener->stop();
      shard->begin_drain([this] { asio::post(control_, [this] { on_reactor_drained(); }); });
    });
  }
  drain_timer_.expires_after(config_.server.drain_timeout);
  drain_timer_.async_wait([this](boost::system::error_code error) {
    if (error) return;
    LogLine(LogLevel::warn, "drain_deadline_passed")
        .number("reactors_drained", static_cast<std::int64_t>(reactors_drained_))
        .number("reactors", static_cast<std::int64_t>(reactors_.size()));
    for (auto& parts : reactors_) {
      auto* shard = parts.shard.get();
      asio::post(parts.reactor->io(), [shard] { shard->close_all_connections(); });
    }
    // Closing sockets completes their operations at once; give the reactors
    // a moment to run those completions before stopping them.
    drain_timer_.expires_after(200ms);
    drain_timer_.async_wait([this](boost::system::error_code) { finish(exit_code_); });
  });
}

void Daemon::on_reactor_drained() {
  if (++reactors_drained_ == reactors_.size()) {
    LogLine(LogLevel::info, "drained");
    finish(exit_code_);
  }
}

void Daemon::finish(int exit_code) {
  exit_code_ = exit_code;
  signals_.cancel();
  watchdog_timer_.cancel();
  drain_timer_.cancel();
  control_.stop();
}

void Daemon::schedule_watchdog() {
  const auto ping_interval = notifier_.watchdog_ping_interval();
  if (!ping_interval) return;
  const auto interval = std::max(1ms, std::chrono::duration_cast<std::chrono::milliseconds>(*ping_interval));
  // Reactors stamp twice per ping interval; a stamp older than the interval
  // means that loop has not turned for a while, and systemd must find out.
  for (auto& parts : reactors_) parts.reactor->start_heartbeat(std::max(1ms, interval / 2));
  notifier_.watchdog();
  watchdog_tick(interval);
}

void Daemon::watchdog_tick(std::chrono::milliseconds interval) {
  watchdog_timer_.expires_after(interval);
  watchdog_timer_.async_wait([this, interval](boost::system::error_code error) {
    if (error || shutting_down_) return;
    bool all_alive = true;
    for (auto& parts : reactors_) {
      if (parts.reactor->since_last_heartbeat() > interval) {
        all_alive = false;
        LogLine(LogLevel::error, "reactor_stalled")
            .number("reactor", static_cast<std::int64_t>(parts.reactor->index()));
      }
    }
    if (all_alive) notifier_.watchdog();
    watchdog_tick(interval);
  });
}

}  // namespace callgate
