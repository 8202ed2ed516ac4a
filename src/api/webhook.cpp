// SPDX-License-Identifier: Apache-2.0
#include "api/webhook.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "server/http.hpp"
#include "server/metrics.hpp"
#include "store/audit.hpp"
#include "store/store.hpp"

namespace vigil::api {

WebhookNotifier::WebhookNotifier(server::MetricsRegistry& metrics,
                                 std::function<void(server::LogLevel, std::string_view)> log,
                                 WebhookOptions options, Post post)
    : metrics_(metrics), log_(std::move(log)), options_(options), post_(std::move(post)) {
  if (!post_) {
    post_ = [timeout = options_.timeout](const std::string& url, const std::string& body) {
      HttpRequestOptions o;
      o.timeout = timeout;
      return http_request("POST", url, body, "application/json", o);
    };
  }
  thread_ = std::thread([this] { run(); });
}

WebhookNotifier::~WebhookNotifier() {
  std::deque<Job> dropped_jobs;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    dropped_jobs.swap(jobs_);
  }
  cv_.notify_all();
  thread_.join();
  const std::size_t dropped = dropped_jobs.size();
  for (Job& job : dropped_jobs) {
    if (job.done) job.done(false);
  }
  if (dropped && log_) {
    log_(server::LogLevel::warn, fmt::format("webhook: {} notification(s) not delivered at shutdown", dropped));
  }
}

void WebhookNotifier::send(const std::string& url, const nlohmann::json& body, Done done) {
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (jobs_.size() < options_.max_queued) {
      jobs_.push_back({url, body.dump(), 0, std::chrono::steady_clock::now(), std::move(done)});
      queued = true;
    }
  }
  if (queued) {
    cv_.notify_all();
    return;
  }
  metrics_.counter("vigil_webhook_total", "Webhook notifications by outcome", {"outcome"})
      .with({"dropped"})
      .inc();
  if (log_) log_(server::LogLevel::error, "webhook: queue full, notification to " + url + " dropped");
  if (done) done(false);
}

bool WebhookNotifier::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return jobs_.empty() && !busy_; });
}

void WebhookNotifier::run() {
  auto& outcomes =
      metrics_.counter("vigil_webhook_total", "Webhook notifications by outcome", {"outcome"});
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (jobs_.empty()) {
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      continue;
    }
    // The job due first (retries wait for their backoff, fresh ones go at once).
    auto next = std::min_element(jobs_.begin(), jobs_.end(),
                                 [](const Job& a, const Job& b) { return a.due < b.due; });
    if (next->due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, next->due);
      continue;
    }
    Job job = std::move(*next);
    jobs_.erase(next);
    busy_ = true;
    lock.unlock();

    ++job.attempt;
    auto result = post_(job.url, job.body);
    const bool delivered = result && result->status >= 200 && result->status < 300;
    const bool permanent = result && result->status >= 400 && result->status < 500 &&
                           result->status != 408 && result->status != 429;
    std::string why = result ? fmt::format("HTTP {}", result->status) : result.error().to_string();
    const bool final_outcome = delivered || permanent || job.attempt >= options_.max_attempts;
    if (final_outcome && job.done) job.done(delivered);  // before busy_ clears: drain() waits for it

    lock.lock();
    busy_ = false;
    if (delivered) {
      outcomes.with({"delivered"}).inc();
    } else if (permanent || job.attempt >= options_.max_attempts) {
      outcomes.with({"failed"}).inc();
      if (log_) {
        log_(server::LogLevel::error, fmt::format("webhook {}: giving up after {} attempt(s): {}",
                                                  job.url, job.attempt, why));
      }
    } else {
      outcomes.with({"retried"}).inc();
      std::chrono::milliseconds backoff =
          std::min<std::chrono::milliseconds>(options_.first_backoff * (1 << std::min(job.attempt - 1, 20)),
                                              options_.max_backoff);
      if (log_) {
        log_(server::LogLevel::warn, fmt::format("webhook {}: attempt {} failed ({}), retrying in {} ms",
                                                 job.url, job.attempt, why, backoff.count()));
      }
      job.due = std::chrono::steady_clock::now() + backoff;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }
}

namespace {
constexpr std::string_view kWitnessKey = "audit/witness_url_seq";
}  // namespace

CheckpointWitness::CheckpointWitness(store::Store& store, WebhookNotifier& notifier, std::string url,
                                     std::function<void(server::LogLevel, std::string_view)> log,
                                     std::chrono::milliseconds poll)
    : store_(store), notifier_(notifier), url_(std::move(url)), log_(std::move(log)), poll_(poll) {
  if (!log_) log_ = [](server::LogLevel, std::string_view) {};
  if (auto v = store_.kv_get(kWitnessKey); v && *v) {
    try {
      delivered_ = std::stoll(**v);
    } catch (const std::exception&) {
      log_(server::LogLevel::warn, fmt::format("audit witness: kv {} is not a number; "
                                               "posting every checkpoint again", kWitnessKey));
    }
  }
  saved_ = delivered_;
  queued_ = delivered_;
}

CheckpointWitness::~CheckpointWitness() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CheckpointWitness::start() {
  thread_ = std::thread([this] { run(); });
}

void CheckpointWitness::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    publish();
    save();
    lock.lock();
    cv_.wait_for(lock, poll_, [this] { return stop_; });
  }
}

void CheckpointWitness::publish() {
  auto all = store_.list_checkpoints();
  if (!all) {
    log_(server::LogLevel::error,
         "audit witness: cannot list the checkpoints: " + all.error().to_string());
    return;
  }
  std::sort(all->begin(), all->end(),
            [](const store::AuditCheckpoint& a, const store::AuditCheckpoint& b) { return a.seq < b.seq; });
  for (const store::AuditCheckpoint& c : *all) {
    {
      std::lock_guard lock(mu_);
      if (c.seq <= queued_ || outstanding_.contains(c.seq)) continue;
      queued_ = c.seq;
      outstanding_.insert(c.seq);
    }
    nlohmann::json body = nlohmann::json::parse(store::witness_line(c));
    notifier_.send(url_, body, [this, seq = c.seq](bool delivered) { done(seq, delivered); });
  }
}

void CheckpointWitness::done(std::int64_t seq, bool delivered) {
  std::lock_guard lock(mu_);
  outstanding_.erase(seq);
  if (delivered) {
    succeeded_.insert(seq);
  } else {
    // Posted again at the next publish(), with every newer one.
    queued_ = std::min(queued_, seq - 1);
  }
  // Delivered in order: every checkpoint up to it delivered, none older still waiting.
  std::int64_t limit = queued_;
  if (!outstanding_.empty()) limit = std::min(limit, *outstanding_.begin() - 1);
  while (!succeeded_.empty() && *succeeded_.begin() <= limit) {
    delivered_ = std::max(delivered_, *succeeded_.begin());
    succeeded_.erase(succeeded_.begin());
  }
}

void CheckpointWitness::save() {
  std::int64_t value = 0;
  {
    std::lock_guard lock(mu_);
    if (delivered_ == saved_) return;
    value = delivered_;
  }
  if (auto ok = store_.kv_put(kWitnessKey, std::to_string(value)); !ok) {
    log_(server::LogLevel::error, "audit witness: cannot record the delivery: " + ok.error().to_string());
    return;
  }
  std::lock_guard lock(mu_);
  saved_ = value;
}

std::int64_t CheckpointWitness::delivered_seq() {
  std::lock_guard lock(mu_);
  return delivered_;
}

void CheckpointWitness::finish(std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  store::AuditQuery any;
  any.limit = 1;
  if (auto entries = store_.list_audit(any); entries && !entries->empty()) {  // else nothing to sign
    if (auto c = store_.checkpoint_audit(); !c) {
      log_(server::LogLevel::error, "audit witness: cannot sign the head of the log: " + c.error().to_string());
    }
  }
  publish();
  notifier_.drain(wait);
  save();
}

}  // namespace vigil::api
