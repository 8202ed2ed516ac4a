// SPDX-License-Identifier: Apache-2.0
// Delivers notifications to webhooks: a JSON POST per notification, on its own thread, retried
// with exponential backoff when the receiver fails (connection error, timeout, 5xx, 429).
// A 2xx answer is delivered; another 4xx is a permanent failure (not retried). Every outcome is
// counted in the metrics and failures are logged.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "api/http_client.hpp"

namespace vigil::server {
class MetricsRegistry;
enum class LogLevel;
}  // namespace vigil::server
namespace vigil::store {
class Store;
struct AuditCheckpoint;
}  // namespace vigil::store

namespace vigil::api {

struct WebhookOptions {
  int max_attempts = 6;                               // first try included
  std::chrono::milliseconds first_backoff{1000};      // doubled after each failure ...
  std::chrono::milliseconds max_backoff{60'000};      // ... up to this
  std::chrono::milliseconds timeout{5000};            // per attempt
  std::size_t max_queued = 10'000;                    // beyond: dropped (and logged)
};

class WebhookNotifier {
 public:
  using Post = std::function<Result<HttpResult>(const std::string& url, const std::string& body)>;
  // `post` defaults to http_request(POST, url, body, application/json).
  WebhookNotifier(server::MetricsRegistry& metrics,
                  std::function<void(server::LogLevel, std::string_view)> log,
                  WebhookOptions options = {}, Post post = {});
  ~WebhookNotifier();  // stops: pending deliveries not yet attempted are dropped and counted
  WebhookNotifier(const WebhookNotifier&) = delete;
  WebhookNotifier& operator=(const WebhookNotifier&) = delete;

  // Called once per notification with whether it was delivered (false: failed for good,
  // dropped for a full queue or at shutdown), on the notifier's thread (or the caller's).
  using Done = std::function<void(bool delivered)>;
  // Queues one notification; returns at once.
  void send(const std::string& url, const nlohmann::json& body, Done done = {});
  // Waits until nothing is queued or in flight, or `timeout` passes; true when idle.
  bool drain(std::chrono::milliseconds timeout);

 private:
  struct Job {
    std::string url;
    std::string body;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
    Done done;
  };
  void run();

  server::MetricsRegistry& metrics_;
  std::function<void(server::LogLevel, std::string_view)> log_;
  WebhookOptions options_;
  Post post_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // GUARDED_BY(mu_)
  bool busy_ = false;     // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  std::thread thread_;
};

// The webhook witness of the audit log (`[audit] witness_url`, docs/audit.md): every signed
// checkpoint is POSTed as JSON (the witness-file line, `{"at","hash","public_key","seq",
// "signature"}`) through a WebhookNotifier, with its retries, so that someone outside keeps
// what the log was at each checkpoint and a log cut short is detectable.
//
// The store is polled for new checkpoints (every `poll`); the newest one delivered in order is
// kept in the store's kv (`audit/witness_url_seq`), so checkpoints signed while the receiver
// was down, or while the server was stopped, are posted later. A checkpoint may be posted more
// than once (after a failure, or when the server stopped before recording the delivery): the
// receiver keys on `seq`.
class CheckpointWitness {
 public:
  // `store` and `notifier` must outlive the witness (or its finish()).
  CheckpointWitness(store::Store& store, WebhookNotifier& notifier, std::string url,
                    std::function<void(server::LogLevel, std::string_view)> log,
                    std::chrono::milliseconds poll = std::chrono::seconds(5));
  ~CheckpointWitness();  // stops the thread (no final checkpoint: see finish())
  CheckpointWitness(const CheckpointWitness&) = delete;
  CheckpointWitness& operator=(const CheckpointWitness&) = delete;

  void start();
  // At shutdown, before the store closes: signs the head of the log, posts what is not yet
  // delivered, waits up to `wait` for the deliveries, records them and stops the thread.
  void finish(std::chrono::milliseconds wait);
  // Posts every checkpoint newer than those already queued (the thread calls it every `poll`).
  void publish();
  // The newest checkpoint seq delivered with every older one.
  std::int64_t delivered_seq();

 private:
  void done(std::int64_t seq, bool delivered);
  void save();
  void run();

  store::Store& store_;
  WebhookNotifier& notifier_;
  std::string url_;
  std::function<void(server::LogLevel, std::string_view)> log_;
  std::chrono::milliseconds poll_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::int64_t delivered_ = 0;       // GUARDED_BY(mu_)
  std::int64_t saved_ = 0;           // GUARDED_BY(mu_): what the kv holds
  std::int64_t queued_ = 0;          // GUARDED_BY(mu_): newest seq queued (lowered on failure)
  std::set<std::int64_t> outstanding_;  // GUARDED_BY(mu_): queued, no outcome yet
  std::set<std::int64_t> succeeded_;    // GUARDED_BY(mu_): delivered, above delivered_
  bool stop_ = false;                // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace vigil::api
