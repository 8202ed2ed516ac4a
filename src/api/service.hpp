// SPDX-License-Identifier: Apache-2.0
// The operations service: what `vigil serve` does, without HTTP. It keeps one live Monitor per
// venue (occupancy, sensor health, rules, alerts; src/ops), persists everything through the
// Store (src/store), appends every change to the audit log, and pushes state and alert events
// to subscribed event streams. The HTTP routes (api/routes.hpp) are a thin layer over it.
//
// Threads: every public method may be called from any thread. Each venue has its own lock;
// evaluation runs on the service's own ticker thread (start()), every second and soon after
// new telemetry, so alerts fire within milliseconds of the reading that causes them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/auth.hpp"
#include "base/error.hpp"
#include "ops/alerts.hpp"
#include "ops/clock.hpp"
#include "ops/occupancy.hpp"
#include "ops/reading.hpp"
#include "store/store.hpp"

namespace vigil::server {
class EventStream;
class MetricsRegistry;
}  // namespace vigil::server

namespace vigil::warn {
class GatheringIndex;
class GeocodeTable;
struct CapAlert;
struct Match;
}  // namespace vigil::warn

namespace vigil::api {

// An answer that is not 2xx: the HTTP status, a message and, for 400, every problem found.
struct ApiError {
  int status = 400;
  std::string message;
  std::vector<Error> errors;  // `{ "path": where, "error": message }` in the body

  static ApiError bad_request(std::string message, std::vector<Error> errors = {});
  static ApiError not_found(std::string message);
  static ApiError conflict(std::string message);
  static ApiError internal(std::string message);
  nlohmann::json to_json() const;
};

using Answer = Expected<nlohmann::json, ApiError>;

// Posts a notification to a webhook (api/webhook.hpp); injected so tests can capture them.
using WebhookSender = std::function<void(const std::string& url, const nlohmann::json& body)>;

struct ServiceOptions {
  // On start (and when a venue is replaced) the estimator replays the stored readings of the
  // last this many hours, so occupancy survives a restart.
  double replay_hours = 24;
  // Evaluation period of rules, escalation and the state stream.
  std::chrono::milliseconds tick{1000};
  // After new telemetry a venue is evaluated again at most this often (alert latency).
  std::chrono::milliseconds min_eval_interval{20};
  // Live egress: the agent-based estimate (a full simulation of the current crowd, seconds of
  // CPU) runs in the background at most this often per venue, when occupancy or the exits
  // changed since the last one; off: only the fast flow estimate.
  bool agent_egress = true;
  std::chrono::seconds agent_egress_interval{120};
  int agent_threads = 1;
  // Errors that have no request to answer (a failed audit append, a failed alert write).
  std::function<void(std::string_view)> log_error;
  // Regions of CAP <geocode>s for matching warnings (`[warnings] geocode_table`); may be null.
  std::shared_ptr<const warn::GeocodeTable> geocodes;
};

class Service {
 public:
  // Loads the stored venues, their rules, postures and open alerts, and replays recent readings.
  // `store`, `clock` and `metrics` must outlive the service.
  static Result<std::unique_ptr<Service>> open(store::Store& store, const ops::Clock& clock,
                                               server::MetricsRegistry& metrics,
                                               ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Starts / stops the ticker thread (evaluation, escalation, state stream). stop() evaluates a
  // last time and closes every event stream. Idempotent.
  void start();
  void stop();
  // One evaluation of every venue now (the ticker calls this; tests call it with a ManualClock).
  void tick();

  void set_webhook_sender(WebhookSender sender);

  // The principal of a bearer token, through an AuthCache (api/auth.hpp): a token revoked by
  // anyone, `vigil token revoke` in another process included, is refused on its next request.
  Expected<Principal, AuthFailure> authenticate(std::string_view token);
  // Appends a change to the audit log. A failed append is counted
  // (`vigil_audit_failures_total`) and logged through ServiceOptions::log_error.
  void audit(const std::string& actor, const std::string& action,
                     const std::string& subject, const std::string& venue,
                     const nlohmann::json& detail);

  // Venues.
  Answer put_venue(const Principal& by, const std::string& id, std::string_view body);
  Answer list_venues(const Principal& who);
  Answer get_venue(const std::string& id);
  Answer venue_state(const std::string& id);
  // The same as JSON text, served from a per-venue cache while nothing changed and for at most
  // kStateCacheMs (what GET /state answers: building the JSON is most of a request's cost).
  Expected<std::string, ApiError> venue_state_text(const std::string& id);
  static constexpr ops::TimeMs kStateCacheMs = 250;
  Answer get_rules(const std::string& id);
  Answer put_rules(const Principal& by, const std::string& id, std::string_view body);
  Answer set_posture(const Principal& by, const std::string& id, std::string_view body);
  bool has_venue(std::string_view id);

  // Gatherings.
  Answer put_gathering(const Principal& by, std::string_view body);
  // Query values as given in the URL (RFC 3339 times), each optional.
  Answer list_gatherings(const Principal& who, std::optional<std::string_view> from,
                         std::optional<std::string_view> to,
                         std::optional<std::string_view> venue);

  // Telemetry: `{ "readings": [...] }` for venue `id`. `done` is called once, after the batch is
  // durable and applied to the venue's live state, with `{ "accepted", "duplicates" }`, or with
  // the error (nothing applied). May call `done` before returning (bad input) or later from
  // the store's writer thread (an error) or the service's applier thread.
  void ingest(const std::string& id, std::string_view body, std::function<void(Answer)> done);
  // The same for readings already parsed (MQTT, the demo's virtual sensors).
  void ingest_readings(const std::string& id, std::vector<ops::Reading> readings,
                       std::function<void(Answer)> done);

  // Alerts.
  // Query values as given in the URL: `before` an RFC 3339 time, `limit` 1..10,000 (default
  // 1,000): the newest `limit` alerts that began before `before`, oldest first, and `truncated`.
  Answer list_alerts(const Principal& who, std::optional<std::string_view> venue,
                     std::optional<std::string_view> state,
                     std::optional<std::string_view> before = std::nullopt,
                     std::optional<std::string_view> limit = std::nullopt);
  // The venue an alert belongs to (for authorization), or nullopt when unknown.
  std::optional<std::string> alert_venue(std::string_view alert_id);
  enum class AlertAction { acknowledge, resolve };
  Answer alert_action(const Principal& by, const std::string& alert_id, AlertAction action,
                      std::string_view body);

  // Incidents (service_egress.cpp): `{ kind: exit_blocked | hazard | evacuation, exit?, polygon?,
  // level?, note }`. Blocking an exit or adding a hazard rebuilds the egress model; `done` gets
  // `{ incident, egress }` once the new estimate is there. close_incident() undoes one.
  void create_incident(const Principal& by, const std::string& venue, std::string_view body,
                       std::function<void(Answer)> done);
  void close_incident(const Principal& by, const std::string& venue, const std::string& id,
                      std::string_view body, std::function<void(Answer)> done);
  Answer list_incidents(const std::string& venue);

  // Warnings and the duty to warn (service_warnings.cpp). post_warning takes a CAP document;
  // the answer is 201 (new) or 200 (the same document again) with the warning and its matches.
  struct Posted {
    bool created = false;
    nlohmann::json body;
  };
  Expected<Posted, ApiError> post_warning(const Principal& by, std::string_view cap_xml);
  // The same with the actor named directly (the feed watch: `feed:NAME`, `drop`).
  Expected<Posted, ApiError> post_warning_as(const std::string& actor, std::string_view cap_xml);
  Answer list_warnings(const Principal& who);
  Answer get_warning(const Principal& who, const std::string& id);
  // The venue of a match (for authorization), or nullopt when there is no such match.
  std::optional<std::string> match_venue(const std::string& warning, const std::string& gathering);
  Answer acknowledge_match(const Principal& by, const std::string& warning,
                           const std::string& gathering, std::string_view body);
  // A CAP 1.2 public advisory for a gathering (XML text), or the error.
  Expected<std::string, ApiError> advisory(const std::string& gathering);
  // Everything that happened for one gathering, in order, with time-to-acknowledge figures.
  Answer timeline(const std::string& gathering);
  // The venue of a gathering, or nullopt.
  std::optional<std::string> gathering_venue(const std::string& gathering);

  // Audit.
  Answer list_audit(std::optional<std::string_view> from, std::optional<std::string_view> to,
                    std::optional<std::string_view> after_seq, std::optional<std::string_view> limit);

  // Event streams: `state`, `alert` (and later `warning`, `incident`) for `venue`, or for every
  // venue `who` sees when venue is empty. The current state is sent at once.
  void subscribe(const Principal& who, const std::string& venue,
                 std::shared_ptr<server::EventStream> stream);

 private:
  struct Runtime;
  struct Subscriber;
  Service(store::Store& store, const ops::Clock& clock, server::MetricsRegistry& metrics,
          ServiceOptions options);

  Result<void> load();
  Result<std::shared_ptr<Runtime>> build_runtime(const store::VenueRecord& record);
  std::shared_ptr<Runtime> runtime(std::string_view id);
  // Evaluates rt and sends its state on the stream when forced, when alerts changed, or when
  // the last state went out at least kStateEvery ago. Returns when the state it held back
  // (sent too recently) is due, for the ticker to send it then.
  std::optional<std::chrono::steady_clock::time_point> evaluate(Runtime& rt, bool force_state);
  static constexpr std::chrono::milliseconds kStateEvery{200};
  nlohmann::json state_json(Runtime& rt);  // REQUIRES: rt.mu held
  void persist_alert_events(Runtime& rt, const std::vector<ops::AlertEvent>& events);
  void broadcast(const std::string& venue, std::string_view event, const std::string& data);
  void mark_dirty(Runtime& rt);
  void ticker_loop();
  // Live egress (service_egress.cpp). REQUIRES rt.mu held for update_egress.
  void update_egress(Runtime& rt, const ops::VenueState& state);
  void rebuild_egress_model(const std::shared_ptr<Runtime>& rt, std::function<void()> then);
  void maybe_start_agent_estimate(Runtime& rt, const ops::VenueState& state);
  void restore_incidents(Runtime& rt);
  void post_job(std::function<void()> job);
  // Warnings (service_warnings.cpp).
  void rebuild_gathering_index();
  void escalate_matches();
  void notify_match(nlohmann::json& match, int level, const char* why);
  nlohmann::json record_match(const std::string& warning_id, const warn::CapAlert& cap,
                              const warn::Match& match, const std::string& actor);
  void match_active_warnings(const std::string& gathering, const std::string& actor);
  void worker_loop();
  // Peak occupancy and zone densities of the active gatherings (service_peaks.cpp).
  struct Peaks;
  void track_peaks(const std::vector<std::shared_ptr<Runtime>>& venues);
  nlohmann::json gathering_peaks(const std::string& gathering);

  store::Store& store_;
  const ops::Clock& clock_;
  server::MetricsRegistry& metrics_;
  ServiceOptions options_;
  AuthCache auth_cache_;

  std::mutex venues_mu_;
  std::map<std::string, std::shared_ptr<Runtime>, std::less<>> venues_;  // GUARDED_BY(venues_mu_)

  std::mutex subs_mu_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;  // GUARDED_BY(subs_mu_)

  std::mutex webhook_mu_;
  WebhookSender webhook_;  // GUARDED_BY(webhook_mu_)

  std::mutex tick_mu_;
  std::condition_variable tick_cv_;
  bool stopping_ = false;  // GUARDED_BY(tick_mu_)
  bool wake_ = false;      // GUARDED_BY(tick_mu_)
  std::thread ticker_;

  // Warnings: the gatherings to match against, and the matches still waiting for an
  // acknowledgement (escalated by tick()).
  std::mutex warn_mu_;
  std::unique_ptr<warn::GatheringIndex> gatherings_;       // GUARDED_BY(warn_mu_)
  std::map<std::string, nlohmann::json> pending_matches_;  // GUARDED_BY(warn_mu_), by kv key

  std::mutex peaks_mu_;
  std::map<std::string, std::shared_ptr<Peaks>, std::less<>> peaks_;  // GUARDED_BY(peaks_mu_)

  // Background jobs (egress model builds, agent-based estimates), one at a time.
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(jobs_mu_)
  bool jobs_stop_ = false;                  // GUARDED_BY(jobs_mu_)
  std::thread worker_;

  // Ingest: batches the store has made durable wait here to be applied to their venue's
  // monitor and answered, on the applier thread (`vigil-ingest`), so the store's writer never
  // waits for a venue's lock. The applier runs until the service is destroyed (the store,
  // closed after stop(), still delivers batches); after that they are applied inline.
  struct Committed {
    std::shared_ptr<Runtime> rt;
    store::AppendResult result;
    std::function<void(Answer)> done;
  };
  void enqueue_committed(Committed batch);
  void applier_loop();
  void apply_committed(std::vector<Committed>& work);
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;
  std::vector<Committed> committed_;  // GUARDED_BY(apply_mu_)
  bool apply_stop_ = false;           // GUARDED_BY(apply_mu_)
  std::thread applier_;
};

}  // namespace vigil::api
