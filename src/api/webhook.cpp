// SPDX-License-Identifier: Apache-2.0
#include "api/webhook.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "server/http.hpp"
#include "server/metrics.hpp"

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
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    dropped = jobs_.size();
    jobs_.clear();
  }
  cv_.notify_all();
  thread_.join();
  if (dropped && log_) {
    log_(server::LogLevel::warn, fmt::format("webhook: {} notification(s) not delivered at shutdown", dropped));
  }
}

void WebhookNotifier::send(const std::string& url, const nlohmann::json& body) {
  {
    std::lock_guard lock(mu_);
    if (jobs_.size() >= options_.max_queued) {
      metrics_.counter("vigil_webhook_total", "Webhook notifications by outcome", {"outcome"})
          .with({"dropped"})
          .inc();
      if (log_) log_(server::LogLevel::error, "webhook: queue full, notification to " + url + " dropped");
      return;
    }
    jobs_.push_back({url, body.dump(), 0, std::chrono::steady_clock::now()});
  }
  cv_.notify_all();
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

}  // namespace vigil::api
