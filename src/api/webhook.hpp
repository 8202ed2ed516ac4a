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
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "api/http_client.hpp"

namespace vigil::server {
class MetricsRegistry;
enum class LogLevel;
}  // namespace vigil::server

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

  // Queues one notification; returns at once.
  void send(const std::string& url, const nlohmann::json& body);
  // Waits until nothing is queued or in flight, or `timeout` passes; true when idle.
  bool drain(std::chrono::milliseconds timeout);

 private:
  struct Job {
    std::string url;
    std::string body;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
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

}  // namespace vigil::api
