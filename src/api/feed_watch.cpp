// SPDX-License-Identifier: Apache-2.0
#include "api/feed_watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/service.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"
#include "warn/feed.hpp"

namespace vigil::api {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kAccept =
    "application/cap+xml, application/atom+xml, application/rss+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5";

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.';
  });
}

std::string seen_key(const std::string& feed) { return "feed/" + feed + "/seen"; }

// A free name for `name` in `dir`: name, else stem.1.ext, stem.2.ext, ...
fs::path free_path(const fs::path& dir, const fs::path& name) {
  fs::path p = dir / name;
  std::error_code ec;
  for (int i = 1; fs::exists(p, ec); ++i) {
    p = dir / (name.stem().string() + "." + std::to_string(i) + name.extension().string());
  }
  return p;
}

}  // namespace

Result<void> validate(const FeedWatchOptions& o) {
  for (const FeedSource& f : o.feeds) {
    const std::string where = "feeds." + f.name;
    if (!valid_name(f.name))
      return unexpected(Error{where, "a feed name is 1 to 64 letters, digits, '-', '_' or '.'"});
    if (f.url.empty()) return unexpected(Error{where + ".url", "is required"});
    if (auto u = parse_url(f.url); !u) return unexpected(Error{where + ".url", u.error().to_string()});
    if (f.interval < std::chrono::seconds(1))
      return unexpected(Error{where + ".interval_s", "must be at least 1 s"});
  }
  return {};
}

FeedWatcher::FeedWatcher(Service& service, store::Store& store, server::MetricsRegistry& metrics,
                         std::function<void(server::LogLevel, std::string_view)> log,
                         FeedWatchOptions options, Fetch fetch)
    : service_(service),
      store_(store),
      metrics_(metrics),
      log_(std::move(log)),
      options_(std::move(options)),
      fetch_(std::move(fetch)) {
  if (!log_) log_ = [](server::LogLevel, std::string_view) {};
  if (!fetch_) {
    fetch_ = [timeout = options_.timeout](const std::string& url) {
      HttpRequestOptions o;
      o.timeout = timeout;
      o.headers.emplace_back("Accept", kAccept);
      return http_request("GET", url, "", "", o);
    };
  }
  for (const FeedSource& f : options_.feeds) {
    Seen& seen = seen_[f.name];
    auto stored = store_.kv_get(seen_key(f.name));
    if (!stored) {
      log_(server::LogLevel::error,
           fmt::format("feed {}: cannot read the entries seen: {}", f.name, stored.error().to_string()));
      continue;
    }
    if (!*stored) continue;
    const json keys = json::parse(**stored, nullptr, false);
    if (!keys.is_array()) continue;
    for (const json& k : keys) {
      if (k.is_string() && seen.keys.insert(k.get<std::string>()).second) seen.order.push_back(k.get<std::string>());
    }
  }
}

FeedWatcher::~FeedWatcher() { stop(); }

Result<void> FeedWatcher::start() {
  if (!options_.drop_dir.empty()) {
    std::error_code ec;
    for (const fs::path& d : {options_.drop_dir, options_.drop_dir / "processed", options_.drop_dir / "failed"}) {
      fs::create_directories(d, ec);
      if (ec) return unexpected(Error{d.string(), "cannot create the drop directory: " + ec.message()});
    }
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void FeedWatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FeedWatcher::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> due(options_.feeds.size(), Clock::now());
  Clock::time_point drop_due = Clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    const auto now = Clock::now();
    auto next = now + std::chrono::hours(1);
    lock.unlock();
    for (std::size_t i = 0; i < options_.feeds.size(); ++i) {
      if (due[i] <= now) {
        poll_feed(options_.feeds[i]);
        due[i] = Clock::now() + options_.feeds[i].interval;
      }
      next = std::min(next, due[i]);
    }
    if (!options_.drop_dir.empty()) {
      if (drop_due <= now) {
        scan_drop_dir();
        drop_due = Clock::now() + options_.drop_interval;
      }
      next = std::min(next, drop_due);
    }
    lock.lock();
    cv_.wait_until(lock, next, [this] { return stop_; });
  }
}

void FeedWatcher::count_fetch(const std::string& feed, const char* result) {
  metrics_.counter("vigil_feed_fetch_total", "CAP feed polls by feed and result", {"feed", "result"})
      .with({feed, result})
      .inc();
}

void FeedWatcher::count_document(const std::string& source, Outcome outcome) {
  static constexpr const char* kNames[] = {"posted", "duplicate", "invalid", "failed"};
  metrics_.counter("vigil_feed_documents_total",
                   "CAP documents from feeds and the drop directory by source and result",
                   {"source", "result"})
      .with({source, kNames[static_cast<int>(outcome)]})
      .inc();
}

FeedWatcher::Outcome FeedWatcher::post(const std::string& actor, const std::string& source,
                                       std::string_view xml, std::string& error) {
  Outcome outcome = Outcome::failed;
  try {
    auto posted = service_.post_warning_as(actor, xml);
    if (posted) {
      outcome = posted->created ? Outcome::posted : Outcome::duplicate;
    } else {
      const ApiError& e = posted.error();
      error = e.message;
      for (const Error& detail : e.errors) {
        error += '\n';
        error += detail.to_string();
      }
      outcome = e.status == 400 ? Outcome::invalid : Outcome::failed;
    }
  } catch (const std::exception& e) {  // never let one document stop the watcher
    error = std::string("internal error: ") + e.what();
  }
  count_document(source, outcome);
  return outcome;
}

void FeedWatcher::remember(Seen& seen, const std::string& key) {
  if (!seen.keys.insert(key).second) return;
  seen.order.push_back(key);
  seen.changed = true;
  while (seen.order.size() > options_.remember_entries) {
    seen.keys.erase(seen.order.front());
    seen.order.pop_front();
  }
}

void FeedWatcher::save_seen(const std::string& feed, Seen& seen) {
  if (!seen.changed) return;
  json keys = json::array();
  for (const auto& k : seen.order) keys.push_back(k);
  if (auto ok = store_.kv_put(seen_key(feed), keys.dump()); !ok) {
    log_(server::LogLevel::error,
         fmt::format("feed {}: cannot store the entries seen: {}", feed, ok.error().to_string()));
    return;
  }
  seen.changed = false;
}

void FeedWatcher::poll_feeds() {
  for (const FeedSource& f : options_.feeds) poll_feed(f);
}

void FeedWatcher::poll_feed(const FeedSource& f) {
  const std::string actor = "feed:" + f.name;
  auto answer = fetch_(f.url);
  if (!answer || answer->status != 200) {
    count_fetch(f.name, "error");
    log_(server::LogLevel::warn,
         fmt::format("feed {} ({}): fetch failed: {}", f.name, f.url,
                     answer ? fmt::format("HTTP {}", answer->status) : answer.error().to_string()));
    return;
  }
  auto feed = warn::parse_feed(answer->body, f.url);
  if (!feed) {
    count_fetch(f.name, "invalid");
    log_(server::LogLevel::warn,
         fmt::format("feed {} ({}): not a usable feed: {}", f.name, f.url, feed.error().to_string()));
    return;
  }
  count_fetch(f.name, "ok");
  for (const std::string& s : feed->skipped) {
    log_(server::LogLevel::debug, fmt::format("feed {} ({}): {}", f.name, f.url, s));
  }
  Seen& seen = seen_[f.name];
  for (const warn::FeedEntry& e : feed->entries) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    // Keys are hashed: ids and links can be long, inline documents longer.
    const std::string key = store::sha256_hex(e.key()).substr(0, 32);
    if (seen.keys.contains(key)) continue;
    const std::string where =
        fmt::format("feed {} ({}): entry at line {}{}", f.name, f.url, e.line,
                    e.id.empty() ? "" : " (id " + e.id + ")");
    std::string doc = e.inline_cap;
    if (doc.empty()) {
      auto cap = fetch_(e.cap_url);
      if (!cap || cap->status != 200) {
        // Not remembered: tried again at the next poll.
        count_document(f.name, Outcome::failed);
        log_(server::LogLevel::warn,
             fmt::format("{}: CAP document {}: {}", where, e.cap_url,
                         cap ? fmt::format("HTTP {}", cap->status) : cap.error().to_string()));
        continue;
      }
      doc = std::move(cap->body);
    }
    std::string error;
    const Outcome outcome = post(actor, f.name, doc, error);
    if (outcome == Outcome::failed) {
      log_(server::LogLevel::error, fmt::format("{}: not posted (tried again later): {}", where, error));
      continue;
    }
    if (outcome == Outcome::invalid) {
      log_(server::LogLevel::warn,
           fmt::format("{}: CAP document {} refused: {}", where,
                       e.cap_url.empty() ? std::string("(inline)") : e.cap_url, error));
    }
    remember(seen, key);  // posted, already known, or invalid for good: never fetched again
  }
  save_seen(f.name, seen);
}

void FeedWatcher::scan_drop_dir() {
  if (options_.drop_dir.empty()) return;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(options_.drop_dir, ec)) {
    std::error_code fec;
    if (!entry.is_regular_file(fec) || entry.path().extension() != ".xml") continue;
    files.push_back(entry.path());
  }
  if (ec) {
    log_(server::LogLevel::error,
         fmt::format("drop directory {}: cannot list: {}", options_.drop_dir.string(), ec.message()));
    return;
  }
  std::sort(files.begin(), files.end());  // a predictable order: by name
  const fs::path processed = options_.drop_dir / "processed";
  const fs::path failed = options_.drop_dir / "failed";
  for (const fs::path& file : files) {
    std::string error;
    Outcome outcome = Outcome::invalid;
    std::error_code sec;
    const auto size = fs::file_size(file, sec);
    if (sec) {
      continue;  // gone meanwhile
    } else if (size > options_.max_document_bytes) {
      error = fmt::format("{} bytes exceeds the limit of {} bytes", size, options_.max_document_bytes);
      count_document("drop", outcome);
    } else {
      std::ifstream in(file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        error = "cannot read the file";
        outcome = Outcome::failed;
        count_document("drop", outcome);
      } else {
        outcome = post("drop", "drop", text.str(), error);
      }
    }
    if (outcome == Outcome::failed) {
      // The store or the service could not take it now: left in place, tried again.
      log_(server::LogLevel::error,
           fmt::format("drop directory: {}: not posted (tried again later): {}", file.string(), error));
      continue;
    }
    const bool ok = outcome == Outcome::posted || outcome == Outcome::duplicate;
    const fs::path target = free_path(ok ? processed : failed, file.filename());
    std::error_code mec;
    fs::rename(file, target, mec);
    if (mec) {
      log_(server::LogLevel::error, fmt::format("drop directory: {}: cannot move to {}: {}",
                                                file.string(), target.string(), mec.message()));
      continue;
    }
    if (ok) {
      log_(server::LogLevel::info, fmt::format("drop directory: {}: {}", file.filename().string(),
                                               outcome == Outcome::posted ? "posted" : "already known"));
      continue;
    }
    log_(server::LogLevel::warn,
         fmt::format("drop directory: {}: refused: {}", file.filename().string(), error));
    std::ofstream why(target.string() + ".error.txt", std::ios::binary | std::ios::trunc);
    why << file.filename().string() << ": " << error << "\n";
  }
}

}  // namespace vigil::api
