// SPDX-License-Identifier: Apache-2.0
#include "api/app.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/feed_watch.hpp"
#include "api/mqtt.hpp"
#include "api/routes.hpp"
#include "api/service.hpp"
#include "api/simulations.hpp"
#include "api/webhook.hpp"
#include "ops/clock.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"
#include "store/store.hpp"

#ifndef VIGIL_WEB_ROOT
#define VIGIL_WEB_ROOT ""
#endif

namespace vigil::api {

namespace {
int level_rank(server::LogLevel l) { return static_cast<int>(l); }
const char* level_name(server::LogLevel l) {
  switch (l) {
    case server::LogLevel::debug: return "debug";
    case server::LogLevel::info: return "info";
    case server::LogLevel::warn: return "warn";
    case server::LogLevel::error: return "error";
  }
  return "?";
}
}  // namespace

// `debug`, `info`, `warn` or `error`; anything else is info.
server::LogLevel parse_level(const std::string& level) {
  for (auto l : {server::LogLevel::debug, server::LogLevel::info, server::LogLevel::warn,
                 server::LogLevel::error}) {
    if (level == level_name(l)) return l;
  }
  return server::LogLevel::info;
}

std::function<void(server::LogLevel, std::string_view)> make_logger(server::LogLevel min,
                                                                    const std::string& format) {
  const bool json_lines = format == "json";
  auto mu = std::make_shared<std::mutex>();
  return [min, json_lines, mu](server::LogLevel l, std::string_view msg) {
    if (level_rank(l) < level_rank(min)) return;
    const std::string at = store::format_rfc3339_ms(store::now_ms());
    std::string line = json_lines
                           ? nlohmann::json{{"at", at}, {"level", level_name(l)}, {"msg", msg}}.dump()
                           : fmt::format("{} {} {}", at, level_name(l), msg);
    line += '\n';
    std::lock_guard lock(*mu);
    std::cerr << line << std::flush;
  };
}

std::filesystem::path default_web_root() {
  std::filesystem::path built(VIGIL_WEB_ROOT);
  if (!built.empty() && std::filesystem::exists(built / "index.html")) return built;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = exe.parent_path() / ".." / "share" / "vigil" / "web";
    if (std::filesystem::exists(installed / "index.html")) return installed;
  }
  return {};
}

struct ServerApp::Impl {
  ServeConfig config;
  std::function<void(server::LogLevel, std::string_view)> log;
  std::unique_ptr<ops::SystemClock> system_clock;
  std::shared_ptr<server::MetricsRegistry> metrics = std::make_shared<server::MetricsRegistry>();
  std::unique_ptr<store::Store> store;
  std::unique_ptr<CheckpointWitness> witness;  // [audit] witness_url; outlives webhooks
  std::unique_ptr<WebhookNotifier> webhooks;
  std::unique_ptr<Service> service;
  std::unique_ptr<FeedWatcher> feeds;  // the CAP feed watch
  std::shared_ptr<SimulationJobs> simulations;  // shared with the routes
  std::unique_ptr<MqttIngest> mqtt;
  std::unique_ptr<server::HttpServer> http;
  bool tls = false;
  std::string host;
  bool stopped = false;
};

ServerApp::ServerApp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerApp::~ServerApp() { stop(); }

Result<std::unique_ptr<ServerApp>> ServerApp::start(const ServeConfig& config,
                                                    const ops::Clock* clock) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  const server::LogLevel log_level = parse_level(config.log_level);
  impl->log = make_logger(log_level, config.log_format);
  if (!clock) {
    impl->system_clock = std::make_unique<ops::SystemClock>();
    clock = impl->system_clock.get();
  }
  auto listen = parse_listen(config.listen);
  if (!listen) return unexpected(listen.error());
  if (config.data_dir.empty()) return unexpected(Error{"--data", "a data directory is required"});
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return unexpected(Error{"server.tls_cert", "TLS needs both tls_cert and tls_key"});
  }

  store::StoreOptions so;
  so.checkpoint_every = config.checkpoint_every;
  so.witness_file = config.witness_file;
  so.on_commit = [&commit_seconds = impl->metrics->histogram(
                      "vigil_store_commit_seconds",
                      "Group transactions of the store: BEGIN to durable COMMIT",
                      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
                      {"result"})](const store::CommitInfo& c) {
    commit_seconds.with({c.committed ? "committed" : "failed"}).observe(c.seconds);
  };
  auto st = store::open_sqlite_store(config.data_dir, so);
  if (!st) return unexpected(st.error());
  impl->store = std::move(*st);

  impl->webhooks = std::make_unique<WebhookNotifier>(*impl->metrics, impl->log, config.webhooks);
  ServiceOptions svc;
  svc.replay_hours = config.replay_hours;
  svc.agent_egress = config.agent_egress;
  svc.agent_egress_interval = std::chrono::seconds(static_cast<long>(config.agent_egress_interval_s));
  svc.agent_threads = config.agent_threads;
  svc.log_error = [log = impl->log](std::string_view m) { log(server::LogLevel::error, m); };
  if (auto ok = validate(config.feeds); !ok) return unexpected(ok.error());
  if (!config.geocode_table.empty()) {
    auto table = load_geocode_table(config.geocode_table);
    if (!table) return unexpected(table.error());
    svc.geocodes = std::move(*table);
  }
  auto service = Service::open(*impl->store, *clock, *impl->metrics, svc);
  if (!service) return unexpected(service.error());
  impl->service = std::move(*service);
  impl->service->set_webhook_sender(
      [w = impl->webhooks.get()](const std::string& url, const nlohmann::json& body) {
        w->send(url, body);
      });

  RouteOptions ro;
  ro.web_root = config.web_root.empty() ? default_web_root() : config.web_root;
  ro.log = impl->log;
  ro.metrics = impl->metrics;
  ro.serve_metrics = config.metrics_listen.empty();  // else on its own listener only
  SimulationJobsOptions sim_options;
  sim_options.threads = config.agent_threads;
  impl->simulations = std::make_shared<SimulationJobs>(*impl->service, sim_options);
  ro.simulations = impl->simulations;
  if (ro.web_root.empty()) impl->log(server::LogLevel::warn, "no dashboard: web root not found");
  server::Router router;
  add_routes(router, *impl->service, ro);

  server::ServerOptions ho;
  ho.address = listen->host;
  ho.port = listen->port;
  ho.io_threads = config.io_threads;
  ho.max_body_bytes = config.max_body_bytes;
  ho.header_timeout = config.header_timeout;
  ho.body_timeout = config.body_timeout;
  ho.idle_timeout = config.idle_timeout;
  ho.shutdown_grace = config.shutdown_grace;
  ho.tls_cert_file = config.tls_cert;
  ho.tls_key_file = config.tls_key;
  ho.metrics = impl->metrics;
  ho.log = impl->log;
  // Access lines are debug lines: below that level no hook, so no line formatted per request.
  if (log_level == server::LogLevel::debug) {
    ho.access_log = [log = impl->log](const server::AccessLogEntry& e) {
      log(server::LogLevel::debug, fmt::format("{} {} {} {} {:.1f} ms", e.remote, e.method,
                                               e.path, e.status, e.latency_s * 1000.0));
    };
  }
  if (!config.metrics_listen.empty()) {
    auto m = parse_listen(config.metrics_listen);
    if (!m) return unexpected(m.error());
    ho.metrics_address = m->host;
    ho.metrics_port = m->port;
  }
  impl->tls = !config.tls_cert.empty();
  impl->host = listen->host;
  impl->http = std::make_unique<server::HttpServer>(std::move(ho), std::move(router));
  if (auto ok = impl->http->start(); !ok) return unexpected(ok.error());
  impl->service->start();
  impl->simulations->start();

  if (config.mqtt_enabled) {
    auto mqtt = MqttIngest::start(*impl->service, *impl->metrics, impl->log, config.mqtt);
    if (!mqtt) return unexpected(mqtt.error());
    impl->mqtt = std::move(*mqtt);
  }
  if (config.feeds.enabled()) {
    impl->feeds = std::make_unique<FeedWatcher>(*impl->service, *impl->store, *impl->metrics,
                                                impl->log, config.feeds);
    if (auto ok = impl->feeds->start(); !ok) return unexpected(ok.error());
  }
  if (!config.witness_url.empty()) {
    impl->witness = std::make_unique<CheckpointWitness>(*impl->store, *impl->webhooks,
                                                        config.witness_url, impl->log);
    impl->witness->start();
  }
  return std::unique_ptr<ServerApp>(new ServerApp(std::move(impl)));
}

void ServerApp::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // No new input: MQTT and HTTP stop first (requests in flight finish).
  if (impl_->mqtt) impl_->mqtt->stop();
  if (impl_->http) impl_->http->stop();
  if (impl_->simulations) impl_->simulations->stop();  // cancels a running simulation
  if (impl_->feeds) impl_->feeds->stop();
  if (impl_->service) impl_->service->stop();
  // The witness gets a checkpoint at the head of the log (up to 2 s to deliver it).
  if (impl_->witness) impl_->witness->finish(std::chrono::seconds(2));
  // The store commits what is pending (its callbacks still reach the service and the MQTT
  // ingest, so both outlive it) and signs a checkpoint.
  impl_->store.reset();
  if (impl_->webhooks) impl_->webhooks->drain(std::chrono::seconds(2));
  impl_->mqtt.reset();
  impl_->feeds.reset();
  impl_->service.reset();
  impl_->webhooks.reset();
  impl_->witness.reset();
}

std::string ServerApp::url() const {
  std::string host = impl_->host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("{}://{}:{}/", impl_->tls ? "https" : "http", host, port());
}
std::uint16_t ServerApp::port() const { return impl_->http->port(); }
std::uint16_t ServerApp::metrics_port() const { return impl_->http->metrics_port(); }
Service& ServerApp::service() { return *impl_->service; }
store::Store& ServerApp::store() { return *impl_->store; }

}  // namespace vigil::api
