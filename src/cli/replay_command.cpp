// SPDX-License-Identifier: Apache-2.0
// `vigil replay`: posts recorded telemetry (NDJSON, one reading per line, or one
// `{"readings": [...]}` batch per line) to a server, at the recorded pace times --speed.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_client.hpp"
#include "cli/commands.hpp"
#include "ops/clock.hpp"
#include "ops/reading.hpp"

namespace vigil::cli {
namespace {

struct Recorded {
  ops::Reading reading;
  int line = 0;
};

// Every reading of the file, or every problem (`FILE:LINE: path: message`).
bool read_recording(const std::string& file, std::vector<Recorded>& out) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot open\n";
    return false;
  }
  bool ok = true;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      std::cerr << fmt::format("{}:{}: not a JSON line\n", file, line);
      ok = false;
      continue;
    }
    if (j.is_object() && j.contains("readings")) {
      auto batch = ops::parse_telemetry(j);
      if (!batch) {
        for (const Error& e : batch.error()) std::cerr << fmt::format("{}:{}: {}\n", file, line, e.to_string());
        ok = false;
        continue;
      }
      for (auto& r : *batch) out.push_back({std::move(r), line});
      continue;
    }
    auto r = ops::parse_reading(j, "reading");
    if (!r) {
      for (const Error& e : r.error()) std::cerr << fmt::format("{}:{}: {}\n", file, line, e.to_string());
      ok = false;
      continue;
    }
    out.push_back({std::move(*r), line});
  }
  return ok;
}

}  // namespace

void register_replay_command(CLI::App& app, int& status) {
  struct Args {
    std::string url, token, venue, file;
    double speed = 1.0;
    bool keep_times = false;
    int batch = 500;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("replay", "Post recorded telemetry (NDJSON) to a server");
  cmd->add_option("--url", a->url, "Server URL, e.g. http://127.0.0.1:8080")->required();
  cmd->add_option("--token", a->token, "A sensor or admin token for the venue")->required();
  cmd->add_option("--venue", a->venue, "Venue id")->required();
  cmd->add_option("file", a->file, "Recording: one reading (or one {\"readings\": [...]}) per line")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--speed", a->speed, "Pace: 1 = as recorded, 10 = ten times faster, 0 = at once")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_flag("--keep-times", a->keep_times,
                "Send the recorded timestamps (default: shift them so the first reading is now)");
  cmd->add_option("--batch", a->batch, "Readings per request at most")->check(CLI::Range(1, 10000));
  cmd->callback([a, &status] {
    std::vector<Recorded> recs;
    if (!read_recording(a->file, recs)) {
      status = 1;
      return;
    }
    if (recs.empty()) {
      std::cerr << a->file << ": no readings\n";
      return;
    }
    std::stable_sort(recs.begin(), recs.end(),
                     [](const Recorded& x, const Recorded& y) { return x.reading.ts_ms < y.reading.ts_ms; });
    std::string base = a->url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string endpoint = base + "/api/v1/venues/" + a->venue + "/telemetry";
    api::HttpRequestOptions options;
    options.headers.emplace_back("Authorization", "Bearer " + a->token);
    options.timeout = std::chrono::seconds(30);

    const ops::TimeMs first_ts = recs.front().reading.ts_ms;
    const auto start = std::chrono::steady_clock::now();
    const ops::TimeMs start_wall = ops::SystemClock().now_ms();
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    std::size_t sent = 0;
    std::size_t accepted = 0;
    std::size_t duplicates = 0;
    for (std::size_t i = 0; i < recs.size();) {
      // Everything due now (recorded offset / speed), up to --batch readings, in one request.
      const double offset_s = static_cast<double>(recs[i].reading.ts_ms - first_ts) / 1000.0;
      if (a->speed > 0) {
        std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                  std::chrono::duration<double>(offset_s / a->speed)));
      }
      const auto now_offset_ms = static_cast<ops::TimeMs>(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() *
          (a->speed > 0 ? a->speed : 1.0));
      nlohmann::json batch = nlohmann::json::array();
      const std::size_t begin = i;
      while (i < recs.size() && batch.size() < static_cast<std::size_t>(a->batch) &&
             (a->speed == 0 || recs[i].reading.ts_ms - first_ts <= now_offset_ms)) {
        ops::Reading r = recs[i].reading;
        if (!a->keep_times) {
          r.ts_ms = start_wall + static_cast<ops::TimeMs>(
                                     static_cast<double>(r.ts_ms - first_ts) / (a->speed > 0 ? a->speed : 1e9));
        }
        batch.push_back(ops::to_json(r));
        ++i;
      }
      if (batch.empty()) {
        batch.push_back(ops::to_json(recs[i].reading));
        ++i;
      }
      auto res = api::http_request("POST", endpoint, nlohmann::json{{"readings", batch}}.dump(),
                                   "application/json", options);
      if (!res) {
        std::cerr << "\nvigil replay: " << res.error().to_string() << "\n";
        status = 1;
        return;
      }
      if (res->status != 200) {
        std::cerr << fmt::format("\nvigil replay: {} lines {}..{}: HTTP {}: {}\n", a->file,
                                 recs[begin].line, recs[i - 1].line, res->status, res->body);
        status = 1;
        return;
      }
      const auto answer = nlohmann::json::parse(res->body, nullptr, false);
      if (answer.is_object()) {
        accepted += answer.value("accepted", std::size_t{0});
        duplicates += answer.value("duplicates", std::size_t{0});
      }
      sent += batch.size();
      if (tty) {
        std::cerr << fmt::format("\r{} / {} readings sent ({:.0f} %)", sent, recs.size(),
                                 100.0 * static_cast<double>(sent) / static_cast<double>(recs.size()));
      }
    }
    if (tty) std::cerr << "\n";
    std::cout << fmt::format("sent {} readings: {} accepted, {} duplicates\n", sent, accepted, duplicates);
  });
}

}  // namespace vigil::cli
