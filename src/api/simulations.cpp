// SPDX-License-Identifier: Apache-2.0
#include "api/simulations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/results.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#include "store/crypto.hpp"
#include "store/store.hpp"

namespace vigil::api {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Thrown from the progress callback to leave sim::simulate() early: the engine has no cancel
// hook, and the callback runs between steps on the calling thread, so the run unwinds cleanly
// (RAII) and nothing else sees the exception.
struct RunStopped {
  std::string state;  // "cancelled" or "failed"
  std::string why;
};

// 20000 -> "20,000".
std::string fmt_count(std::size_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// The positions for playback: every `every_steps`-th step, at most `max_agents` people (1 in n
// by id, n fixed by the first frame), in centimetres, until `max_points` positions are kept.
class FrameRecorder final : public sim::FrameSink {
 public:
  struct Frame {
    double t_s = 0;
    std::vector<std::int32_t> xyl;  // x cm, y cm, level of each kept person
  };

  FrameRecorder(double frame_dt_s, std::size_t max_agents, std::size_t max_points)
      : frame_dt_s_(frame_dt_s), max_agents_(std::max<std::size_t>(1, max_agents)),
        max_points_(max_points) {}

  void frame(std::int64_t frame, const std::vector<sim::FrameAgent>& agents) override {
    if (truncated_) return;
    if (frames_.empty()) {
      agents_total_ = agents.size();
      stride_ = std::max<std::size_t>(1, (agents.size() + max_agents_ - 1) / max_agents_);
    }
    Frame f;
    f.t_s = static_cast<double>(frame) * frame_dt_s_;
    for (const sim::FrameAgent& a : agents) {
      if (static_cast<std::size_t>(a.id) % stride_ != 0) continue;
      f.xyl.push_back(static_cast<std::int32_t>(std::lround(a.x * 100)));
      f.xyl.push_back(static_cast<std::int32_t>(std::lround(a.y * 100)));
      f.xyl.push_back(a.level);
    }
    if (points_ + f.xyl.size() / 3 > max_points_) {
      truncated_ = true;
      return;
    }
    points_ += f.xyl.size() / 3;
    frames_.push_back(std::move(f));
  }

  double frame_dt_s() const { return frame_dt_s_; }
  std::size_t stride() const { return stride_; }
  std::size_t agents_total() const { return agents_total_; }
  bool truncated() const { return truncated_; }
  const std::vector<Frame>& frames() const { return frames_; }

 private:
  double frame_dt_s_;
  std::size_t max_agents_;
  std::size_t max_points_;
  std::size_t stride_ = 1;
  std::size_t agents_total_ = 0;
  std::size_t points_ = 0;
  bool truncated_ = false;
  std::vector<Frame> frames_;
};

// The people a population may ask for, before the scenario is parsed (parsing places them, so
// a huge count must be refused first): counts and agent lists as given, densities times the
// zone's area (from the venue's derived figures) or the polygon's own area (an upper bound).
double people_asked(const json& doc, const json& derived_zones) {
  double total = 0;
  const auto pop = doc.find("population");
  if (pop == doc.end() || !pop->is_array()) return 0;
  for (const json& e : *pop) {
    if (!e.is_object()) continue;
    if (auto c = e.find("count"); c != e.end() && c->is_number()) {
      total += std::max(0.0, c->get<double>());
    } else if (auto a = e.find("agents"); a != e.end() && a->is_array()) {
      total += static_cast<double>(a->size());
    } else if (auto d = e.find("density"); d != e.end() && d->is_number()) {
      double area_m2 = 0;
      if (auto z = e.find("zone"); z != e.end() && z->is_string()) {
        auto zone = derived_zones.find(z->get<std::string>());
        if (zone != derived_zones.end()) area_m2 = zone->value("area_m2", 0.0);
      } else if (auto p = e.find("polygon"); p != e.end() && p->is_array()) {
        double twice = 0;
        for (std::size_t i = 0; i + 1 < p->size(); ++i) {
          const json& a0 = (*p)[i];
          const json& a1 = (*p)[i + 1];
          if (!a0.is_array() || !a1.is_array() || a0.size() < 2 || a1.size() < 2 ||
              !a0[0].is_number() || !a0[1].is_number() || !a1[0].is_number() || !a1[1].is_number())
            continue;
          twice += a0[0].get<double>() * a1[1].get<double>() - a1[0].get<double>() * a0[1].get<double>();
        }
        area_m2 = std::abs(twice) / 2;
      }
      total += std::max(0.0, d->get<double>()) * area_m2;
    }
  }
  return total;
}

std::optional<double> parse_number(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

double round2(double v) { return std::round(v * 100) / 100; }

}  // namespace

struct SimulationJobs::Job {
  std::string id;
  std::string venue;
  std::string actor;
  std::string created_at;
  json scenario_info;                       // what was asked, for the answers
  std::unique_ptr<sim::Scenario> scenario;  // until the run ends
  std::atomic<bool> cancel{false};

  // GUARDED_BY(SimulationJobs::mu_)
  std::string state = "queued";
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  double sim_time_s = 0;
  std::size_t evacuated = 0;
  std::size_t total = 0;
  json curve = json::array();  // [[t, evacuated], ...], once per simulated second
  std::string error;

  // Set once under mu_ when the run is done; read-only afterwards.
  std::shared_ptr<const json> summary;  // summary.json, plus "notes"
  std::shared_ptr<const json> exits;    // exit id -> [[t, flow_p_s], ...]
  std::shared_ptr<const FrameRecorder> frames;

  // REQUIRES: SimulationJobs::mu_ held.
  json brief() const {
    return {{"id", id},
            {"venue", venue},
            {"state", state},
            {"created_at", created_at},
            {"started_at", started_at ? json(*started_at) : json(nullptr)},
            {"finished_at", finished_at ? json(*finished_at) : json(nullptr)},
            {"by", actor},
            {"scenario", scenario_info},
            {"progress", {{"sim_time_s", sim_time_s}, {"evacuated", evacuated}, {"total", total}}},
            {"error", error.empty() ? json(nullptr) : json(error)}};
  }
};

SimulationJobs::SimulationJobs(Service& service, SimulationJobsOptions options)
    : service_(service), options_(std::move(options)) {}

SimulationJobs::~SimulationJobs() { stop(); }

void SimulationJobs::start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  worker_ = std::thread([this] { worker_loop(); });
}

void SimulationJobs::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    const std::string now = store::format_rfc3339_ms(store::now_ms());
    for (const auto& job : waiting_) {
      job->state = "cancelled";
      job->error = "cancelled: the server stopped before it ran";
      job->finished_at = now;
      job->scenario.reset();
      finished_.push_back(job->id);
    }
    waiting_.clear();
    for (const auto& [id, job] : jobs_) job->cancel = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Answer SimulationJobs::submit(const Principal& by, const std::string& venue, std::string_view body) {
  const auto busy = [&]() -> std::optional<ApiError> {
    if (stopping_) return ApiError{503, "the server is stopping; no new simulations", {}};
    if (waiting_.size() >= options_.max_waiting) {
      return ApiError{503,
                      fmt::format("{} simulations are waiting already (at most {}, one runs at a "
                                  "time); try again when one has finished",
                                  waiting_.size(), options_.max_waiting),
                      {}};
    }
    return std::nullopt;
  };
  {
    std::lock_guard lock(mu_);
    if (auto b = busy()) return unexpected(*b);
  }

  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    return unexpected(ApiError::bad_request("malformed JSON", {{"", e.what()}}));
  }
  if (!doc.is_object()) return unexpected(ApiError::bad_request("the body must be a JSON object"));

  auto stored = service_.get_venue(venue);
  if (!stored) return unexpected(stored.error());
  json venue_doc = std::move(*stored);
  const json derived_zones = venue_doc.contains("derived") && venue_doc["derived"].is_object()
                                 ? venue_doc["derived"].value("zones", json::object())
                                 : json::object();
  venue_doc.erase("derived");
  venue_doc.erase("posture");

  // This server's limits, checked before the scenario is parsed (parsing places the people).
  std::vector<Error> limits;
  if (doc.contains("venue")) {
    limits.push_back({"venue", "not allowed here: the simulation uses the stored venue \"" + venue +
                                   "\" (leave `venue` out)"});
  }
  if (auto r = doc.find("runs"); r != doc.end() && r->is_number() && r->get<double>() != 1) {
    limits.push_back({"runs", fmt::format("the server runs one run per simulation, got {}; use "
                                          "`vigil simulate` for Monte Carlo runs",
                                          r->dump())});
  }
  if (auto m = doc.find("max_time_s"); m != doc.end() && m->is_number() &&
                                        m->get<double>() > options_.max_time_s) {
    limits.push_back({"max_time_s", fmt::format("at most {} s on this server, got {}",
                                                options_.max_time_s, m->dump())});
  }
  const double asked = people_asked(doc, derived_zones);
  if (asked > static_cast<double>(options_.max_agents)) {
    limits.push_back({"population", fmt::format("about {} people asked for; at most {} per "
                                                "simulation on this server",
                                                fmt_count(static_cast<std::size_t>(asked)),
                                                fmt_count(options_.max_agents))});
  }
  if (!limits.empty()) {
    return unexpected(ApiError::bad_request("the scenario exceeds this server's limits", limits));
  }

  doc["venue"] = std::move(venue_doc);
  auto parsed = sim::parse_scenario(doc, {});
  if (!parsed) return unexpected(ApiError::bad_request("the scenario has errors", parsed.error()));
  std::size_t people = 0;
  for (const sim::PopulationEntry& e : parsed->population) people += static_cast<std::size_t>(e.count);
  if (people > options_.max_agents) {
    return unexpected(ApiError::bad_request(
        "the scenario exceeds this server's limits",
        {{"population", fmt::format("{} people; at most {} per simulation on this server",
                                    fmt_count(people), fmt_count(options_.max_agents))}}));
  }
  if (people == 0) {
    return unexpected(ApiError::bad_request("the scenario has errors",
                                            {{"population", "nobody to simulate"}}));
  }

  auto job = std::make_shared<Job>();
  job->venue = venue;
  job->actor = by.actor();
  job->created_at = store::format_rfc3339_ms(store::now_ms());
  job->total = people;
  json hazards = json::array();
  for (const sim::ScenarioHazard& h : parsed->hazards) {
    json poly = json::array();
    for (const auto& p : h.polygon.outer) poly.push_back({round2(p.x), round2(p.y)});
    hazards.push_back({{"level", h.level}, {"from_s", h.from_s}, {"polygon", poly}});
  }
  job->scenario_info = {{"agents", people},
                        {"model", parsed->model.name},
                        {"routing", parsed->routing == sim::Routing::quickest ? "quickest" : "nearest"},
                        {"closed", parsed->closed},
                        {"hazards", hazards},
                        {"seed", parsed->seed},
                        {"time_step_s", parsed->time_step_s},
                        {"max_time_s", parsed->max_time_s},
                        {"egress_limit_s", parsed->venue->egress_limit_s}};
  job->scenario = std::make_unique<sim::Scenario>(std::move(*parsed));

  json answer;
  {
    std::lock_guard lock(mu_);
    if (auto b = busy()) return unexpected(*b);
    do {
      job->id = "s-" + store::random_hex(6);
    } while (jobs_.contains(job->id));
    jobs_.emplace(job->id, job);
    waiting_.push_back(job);
    answer = job->brief();
    answer["position"] = waiting_.size();  // 1: next to run
  }
  cv_.notify_all();
  service_.audit(job->actor, "simulation.start", job->id, venue, job->scenario_info);
  return answer;
}

void SimulationJobs::worker_loop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_ || waiting_.empty()) return;
      job = waiting_.front();
      waiting_.pop_front();
      job->state = "running";
      job->started_at = store::format_rfc3339_ms(store::now_ms());
    }
    run(job);
  }
}

void SimulationJobs::run(const std::shared_ptr<Job>& job) {
  const sim::Scenario& sc = *job->scenario;
  const auto started = SteadyClock::now();
  std::string state = "done";
  std::string error;
  std::shared_ptr<json> summary;
  std::shared_ptr<json> exits;
  auto recorder = std::make_shared<FrameRecorder>(0, 0, 0);

  try {
    auto agents = sim::place_population(sc, sc.seed);
    if (!agents) {
      std::string why;
      for (const Error& e : agents.error()) why += (why.empty() ? "" : "; ") + e.to_string();
      throw RunStopped{"failed", "placing the people: " + why};
    }
    const int every = std::max(1, static_cast<int>(std::lround(options_.frame_dt_s / sc.time_step_s)));
    recorder = std::make_shared<FrameRecorder>(every * sc.time_step_s, options_.max_frame_agents,
                                               options_.max_frame_points);
    sim::SimOptions so;
    so.threads = options_.threads;
    so.playback = recorder.get();
    so.playback_every_steps = every;
    so.progress = [&](double t, std::size_t evacuated, std::size_t total) {
      {
        std::lock_guard lock(mu_);
        job->sim_time_s = t;
        job->evacuated = evacuated;
        job->total = total;
        job->curve.push_back({t, evacuated});
      }
      if (job->cancel) throw RunStopped{"cancelled", "cancelled: the server stopped"};
      const double wall_s = std::chrono::duration<double>(SteadyClock::now() - started).count();
      if (wall_s > options_.max_wall_s) {
        throw RunStopped{"failed", fmt::format("stopped after {:.0f} s of computing (at most {:.0f} s "
                                               "per simulation on this server), at {:.0f} s "
                                               "simulated; ask for fewer people or a shorter "
                                               "max_time_s",
                                               wall_s, options_.max_wall_s, t)};
      }
    };
    const sim::RunResult r = sim::simulate(sc, sc.seed, *agents, so);

    const sim::SummaryJson s = sim::summarize_run(sc, r);
    summary = std::make_shared<json>(json::parse(s.dump()));
    json notes = json::array();
    if (r.max_time_reached) notes.push_back(fmt::format("max_time_s {} s reached", sc.max_time_s));
    for (const auto& [reason, count] : r.not_evacuated)
      notes.push_back(fmt::format("{} people not evacuated: {}", count, reason));
    for (const std::string& w : sc.warnings) notes.push_back(w);
    (*summary)["notes"] = std::move(notes);

    // Flow per open exit, in bins of exit_bin_s: [t, persons per second over [t, t + bin)].
    const double bin = options_.exit_bin_s;
    const auto nbins = static_cast<std::size_t>(std::max(1.0, std::ceil(r.end_time_s / bin)));
    std::vector<std::vector<std::size_t>> counts(sc.venue->exits.size(),
                                                 std::vector<std::size_t>(nbins, 0));
    for (std::size_t i = 0; i < r.exit_used.size() && i < r.evacuation_time_s.size(); ++i) {
      if (r.exit_used[i] < 0 || std::isnan(r.evacuation_time_s[i])) continue;
      const auto b = std::min(nbins - 1, static_cast<std::size_t>(r.evacuation_time_s[i] / bin));
      ++counts[static_cast<std::size_t>(r.exit_used[i])][b];
    }
    exits = std::make_shared<json>(json::object());
    for (std::size_t e = 0; e < sc.venue->exits.size(); ++e) {
      if (sc.closed.contains(sc.venue->exits[e].id)) continue;
      json series = json::array();
      for (std::size_t b = 0; b < nbins; ++b)
        series.push_back({static_cast<double>(b) * bin, round2(static_cast<double>(counts[e][b]) / bin)});
      (*exits)[sc.venue->exits[e].id] = std::move(series);
    }
    // The curve's last point: the end of the run.
    std::lock_guard lock(mu_);
    std::size_t out = 0;
    for (double t : r.evacuation_time_s) out += std::isnan(t) ? 0 : 1;
    if (job->curve.empty() || job->curve.back()[0].get<double>() < r.end_time_s) {
      job->curve.push_back({round2(r.end_time_s), out});
    }
    job->sim_time_s = r.end_time_s;
    job->evacuated = out;
  } catch (const RunStopped& stopped) {
    state = stopped.state;
    error = stopped.why;
  } catch (const std::exception& e) {
    state = "failed";
    error = std::string("the simulation failed: ") + e.what();
  }

  std::lock_guard lock(mu_);
  job->state = state;
  job->error = error;
  job->finished_at = store::format_rfc3339_ms(store::now_ms());
  if (state == "done") {
    job->summary = summary;
    job->exits = exits;
    job->frames = recorder;
  }
  job->scenario.reset();
  finished_.push_back(job->id);
  forget_old();
}

void SimulationJobs::forget_old() {
  while (finished_.size() > options_.keep_finished) {
    jobs_.erase(finished_.front());
    finished_.pop_front();
  }
}

std::optional<std::string> SimulationJobs::venue_of(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->venue;
}

Answer SimulationJobs::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return unexpected(ApiError::not_found("no simulation \"" + id + "\""));
  const Job& job = *it->second;
  json j = job.brief();
  j["curve"] = job.curve;
  j["summary"] = job.summary ? *job.summary : json(nullptr);
  j["exits"] = job.exits ? *job.exits : json::object();
  if (job.frames) {
    j["frames"] = {{"dt_s", round2(job.frames->frame_dt_s())},
                   {"count", job.frames->frames().size()},
                   {"stride", job.frames->stride()},
                   {"truncated", job.frames->truncated()}};
  } else {
    j["frames"] = nullptr;
  }
  if (job.state == "queued") {
    std::size_t pos = 1;
    for (const auto& w : waiting_) {
      if (w->id == id) break;
      ++pos;
    }
    j["position"] = pos;
  }
  return j;
}

Answer SimulationJobs::frames(const std::string& id, std::optional<std::string_view> fps_text,
                              std::optional<std::string_view> level_text) const {
  std::shared_ptr<const FrameRecorder> rec;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return unexpected(ApiError::not_found("no simulation \"" + id + "\""));
    if (!it->second->frames) {
      return unexpected(ApiError::conflict(fmt::format(
          "simulation \"{}\" is {}: positions are there once it is done", id, it->second->state)));
    }
    rec = it->second->frames;
  }
  double fps = 2;
  if (fps_text) {
    auto v = parse_number(*fps_text);
    if (!v || *v <= 0 || *v > 100) {
      return unexpected(ApiError::bad_request(
          "bad query", {{"fps", "must be a number of frames per simulated second in (0, 100], got \"" +
                                    std::string(*fps_text) + "\""}}));
    }
    fps = *v;
  }
  std::optional<int> level;
  if (level_text) {
    auto v = parse_number(*level_text);
    if (!v || *v != std::floor(*v) || std::abs(*v) > 1000) {
      return unexpected(ApiError::bad_request(
          "bad query", {{"level", "must be a level number, got \"" + std::string(*level_text) + "\""}}));
    }
    level = static_cast<int>(*v);
  }
  // Every k-th recorded frame: the recording's rate is the most there is.
  const double rec_dt = rec->frame_dt_s();
  const auto k = static_cast<std::size_t>(std::max(1.0, std::round((1 / fps) / rec_dt)));
  json frames = json::array();
  const auto& all = rec->frames();
  for (std::size_t f = 0; f < all.size(); f += k) {
    json agents = json::array();
    const auto& xyl = all[f].xyl;
    for (std::size_t i = 0; i + 2 < xyl.size(); i += 3) {
      if (level && xyl[i + 2] != *level) continue;
      json a = {xyl[i] / 100.0, xyl[i + 1] / 100.0};
      if (!level) a.push_back(xyl[i + 2]);
      agents.push_back(std::move(a));
    }
    json frame = {{"t", round2(all[f].t_s)}};
    if (level) frame["level"] = *level;
    frame["agents"] = std::move(agents);
    frames.push_back(std::move(frame));
  }
  return json{{"id", id},
              {"dt_s", round2(rec_dt * static_cast<double>(k))},
              {"level", level ? json(*level) : json(nullptr)},
              {"agents_total", rec->agents_total()},
              {"stride", rec->stride()},
              {"truncated", rec->truncated()},
              {"frames", std::move(frames)}};
}

Answer SimulationJobs::list(const Principal& who, std::optional<std::string_view> venue) const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Job>> seen;
  for (const auto& [id, job] : jobs_) {
    if (!who.sees(job->venue)) continue;
    if (venue && job->venue != *venue) continue;
    seen.push_back(job);
  }
  std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) {
    return a->created_at != b->created_at ? a->created_at > b->created_at : a->id > b->id;
  });
  json list = json::array();
  for (const auto& job : seen) list.push_back(job->brief());
  return json{{"simulations", std::move(list)}};
}

}  // namespace vigil::api
