// SPDX-License-Identifier: Apache-2.0
// The CAP feed watch (docs/warnings.md, "CAP feed watch"): Atom/RSS feeds polled over HTTP(S)
// and a drop directory, each new CAP document handed to the same intake as POST /warnings
// (Service::post_warning_as) with the actor `feed:NAME` (or `drop`).
//
// Duplicates: an entry is fetched once; the keys of the entries seen are kept in the store's kv
// (`feed/{name}/seen`), so a restart does not fetch everything again, and post_warning itself
// is idempotent on sender + identifier + sent. Problems are logged (what and where) and counted
// in /metrics; nothing a feed or a file contains can stop the watcher.
//
// Threads: one of its own (start()/stop()); poll_feeds() and scan_drop_dir() are for tests and
// must not run concurrently with that thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/http_client.hpp"
#include "base/error.hpp"

namespace vigil::server {
class MetricsRegistry;
enum class LogLevel;
}  // namespace vigil::server
namespace vigil::store {
class Store;
}

namespace vigil::api {

class Service;

struct FeedSource {
  std::string name;  // [feeds.NAME]; letters, digits, '-', '_', '.'
  std::string url;   // http(s) URL of an Atom or RSS 2.0 feed
  std::chrono::milliseconds interval{60'000};
};

struct FeedWatchOptions {
  std::vector<FeedSource> feeds;
  std::filesystem::path drop_dir;  // empty: no drop directory
  std::chrono::milliseconds drop_interval{5'000};
  std::chrono::milliseconds timeout{20'000};     // per HTTP request
  std::size_t max_document_bytes = 1u << 20;     // a larger CAP file in the drop directory fails
  std::size_t remember_entries = 5'000;          // seen entries kept per feed

  bool enabled() const { return !feeds.empty() || !drop_dir.empty(); }
};

// Checks names, URLs and intervals; errors name the feed (`feeds.nws.url`).
Result<void> validate(const FeedWatchOptions& options);

class FeedWatcher {
 public:
  // GETs a URL (the feed, a CAP document); defaults to http_request() with options.timeout.
  using Fetch = std::function<Result<HttpResult>(const std::string& url)>;
  // `service`, `store` and `metrics` must outlive the watcher. Loads the seen entries.
  FeedWatcher(Service& service, store::Store& store, server::MetricsRegistry& metrics,
              std::function<void(server::LogLevel, std::string_view)> log,
              FeedWatchOptions options, Fetch fetch = {});
  ~FeedWatcher();  // stop()s
  FeedWatcher(const FeedWatcher&) = delete;
  FeedWatcher& operator=(const FeedWatcher&) = delete;

  // Creates the drop directory (and processed/, failed/) and starts the thread: every feed is
  // polled at once, then every its interval; the drop directory every drop_interval.
  Result<void> start();
  // Stops the thread after the request in progress (bounded by the timeout). Idempotent.
  void stop();

  // One poll of every feed, now.
  void poll_feeds();
  // One poll of one feed.
  void poll_feed(const FeedSource& feed);
  // Posts every *.xml of the drop directory and moves it to processed/ or failed/.
  void scan_drop_dir();

 private:
  struct Seen {
    std::deque<std::string> order;  // oldest first
    std::set<std::string> keys;
    bool changed = false;
  };
  enum class Outcome { posted, duplicate, invalid, failed };
  // Posts one CAP document; `error` gets why when it is not posted.
  Outcome post(const std::string& actor, const std::string& source, std::string_view xml,
               std::string& error);
  void remember(Seen& seen, const std::string& key);
  void save_seen(const std::string& feed, Seen& seen);
  void count_fetch(const std::string& feed, const char* result);
  void count_document(const std::string& source, Outcome outcome);
  void run();

  Service& service_;
  store::Store& store_;
  server::MetricsRegistry& metrics_;
  std::function<void(server::LogLevel, std::string_view)> log_;
  FeedWatchOptions options_;
  Fetch fetch_;
  std::map<std::string, Seen> seen_;  // by feed name; only the watcher's thread

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace vigil::api
