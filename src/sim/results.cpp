// SPDX-License-Identifier: Apache-2.0
#include "sim/results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <sqlite3.h>

#include "venue/render_svg.hpp"

namespace vigil::sim {

using json = nlohmann::ordered_json;

namespace {

// x rounded to a multiple of step (a power of ten below 1), printed without binary noise.
double round_to(double x, double step) {
  const double inv = std::round(1 / step);
  return std::round(x * inv) / inv;
}
json time_value(double t) { return std::isfinite(t) ? json(round_to(t, 0.01)) : json(nullptr); }

// Linear-interpolation percentile (type 7) of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = p / 100 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

// Flow over the span of the crossings: count / (last - first), or the count when they all
// happened in one instant.
double span_flow(std::size_t count, double first, double last) {
  if (count == 0) return 0;
  return last > first ? static_cast<double>(count) / (last - first) : static_cast<double>(count);
}

std::vector<double> sorted_times(const RunResult& r) {
  std::vector<double> t;
  for (double x : r.evacuation_time_s)
    if (!std::isnan(x)) t.push_back(x);
  std::sort(t.begin(), t.end());
  return t;
}

}  // namespace

json summarize_run(const Scenario& sc, const RunResult& r) {
  const venue::Venue& v = *sc.venue;
  const std::vector<double> times = sorted_times(r);
  const std::size_t n = r.agents;
  const std::size_t evacuated = times.size();
  json s;
  s["agents"] = n;
  s["evacuated"] = evacuated;
  s["not_evacuated"] = n - evacuated;
  const bool all_out = evacuated == n;
  const double last = times.empty() ? 0.0 : times.back();
  s["evacuation_time_s"] = all_out ? time_value(last) : json(nullptr);
  // The time by which p % of all people were out (null when that many never got out).
  json pct;
  for (int p : {50, 90, 95, 100}) {
    const auto need = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9));
    if (n == 0) pct[std::to_string(p)] = 0.0;
    else if (need <= evacuated) pct[std::to_string(p)] = time_value(times[std::max<std::size_t>(need, 1) - 1]);
    else pct[std::to_string(p)] = nullptr;
  }
  s["time_percentiles_s"] = pct;
  s["egress_limit_s"] = v.egress_limit_s;
  s["within_limit"] = all_out && last <= v.egress_limit_s;

  json exits = json::object();
  for (std::size_t e = 0; e < v.exits.size(); ++e) {
    std::vector<double> t;
    for (std::size_t i = 0; i < n; ++i)
      if (r.exit_used[i] == static_cast<int>(e)) t.push_back(r.evacuation_time_s[i]);
    std::sort(t.begin(), t.end());
    json ex;
    ex["count"] = t.size();
    ex["first_s"] = t.empty() ? json(nullptr) : time_value(t.front());
    ex["last_s"] = t.empty() ? json(nullptr) : time_value(t.back());
    ex["mean_flow_p_s"] = round_to(span_flow(t.size(), t.empty() ? 0 : t.front(), t.empty() ? 0 : t.back()), 0.001);
    if (sc.closed.count(v.exits[e].id)) ex["closed"] = true;
    exits[v.exits[e].id] = ex;
  }
  s["exits"] = exits;

  json lines = json::object();
  for (std::size_t m = 0; m < sc.lines.size(); ++m) {
    std::vector<double> t = r.line_crossing_s[m];
    std::sort(t.begin(), t.end());
    const double flow = span_flow(t.size(), t.empty() ? 0 : t.front(), t.empty() ? 0 : t.back());
    json l;
    l["count"] = t.size();
    l["flow_p_s"] = round_to(flow, 0.001);
    l["specific_flow_p_m_s"] = round_to(flow / sc.lines[m].line.length(), 0.001);
    lines[sc.lines[m].id] = l;
  }
  s["lines"] = lines;

  double peak = -1;
  std::size_t peak_zone = 0;
  double peak_t = 0;
  for (std::size_t k = 0; k < r.zone_persons.size(); ++k) {
    for (std::size_t z = 0; z < v.zones.size(); ++z) {
      if (!(v.zones[z].area_m2 > 0)) continue;
      const double d = r.zone_persons[k][z] / v.zones[z].area_m2;
      if (d > peak) {
        peak = d;
        peak_zone = z;
        peak_t = r.sample_time_s[k];
      }
    }
  }
  if (peak >= 0) s["peak_density_p_m2"] = {{"value", round_to(peak, 0.01)}, {"zone", v.zones[peak_zone].id}, {"at_s", peak_t}};
  else s["peak_density_p_m2"] = nullptr;

  s["steps"] = r.steps;
  s["wall_s"] = round_to(r.wall_s, 0.001);
  // Throughput of the step loop (set-up excluded), comparable with other simulators' figures.
  const double loop = r.loop_wall_s();
  s["agent_steps_per_s"] = loop > 0 ? std::round(static_cast<double>(r.agent_steps) / loop) : 0.0;
  s["threads"] = r.threads;
  s["seed"] = r.seed;
  s["max_time_reached"] = r.max_time_reached;
  s["end_time_s"] = time_value(r.end_time_s);
  json reasons = json::object();
  for (const auto& [reason, count] : r.not_evacuated) reasons[reason] = count;
  s["not_evacuated_reasons"] = reasons;
  s["model"] = sc.model.name;
  s["time_step_s"] = sc.time_step_s;
  json stages = json::object();
  for (const auto& [name, secs] : r.stage_wall_s) stages[name] = round_to(secs, 0.001);
  s["stage_wall_s"] = stages;
  return s;
}

namespace {

// {mean, sd, p5, p50, p95} of the non-null numbers; null when there are none.
json distribution_of(const std::vector<json>& values) {
  std::vector<double> x;
  for (const json& v : values)
    if (v.is_number()) x.push_back(v.get<double>());
  if (x.empty()) return nullptr;
  std::sort(x.begin(), x.end());
  double mean = 0;
  for (double a : x) mean += a;
  mean /= static_cast<double>(x.size());
  double var = 0;
  for (double a : x) var += (a - mean) * (a - mean);
  const double sd = x.size() > 1 ? std::sqrt(var / static_cast<double>(x.size() - 1)) : 0.0;
  json d = {{"mean", round_to(mean, 0.001)}, {"sd", round_to(sd, 0.001)}, {"p5", round_to(percentile(x, 5), 0.001)},
            {"p50", round_to(percentile(x, 50), 0.001)}, {"p95", round_to(percentile(x, 95), 0.001)}};
  if (x.size() != values.size()) d["n"] = x.size();
  return d;
}

// The same figure of every run summary, found by a JSON pointer.
std::vector<json> gather(const std::vector<json>& runs, const json::json_pointer& ptr) {
  std::vector<json> out;
  for (const json& r : runs) out.push_back(r.contains(ptr) ? r.at(ptr) : json(nullptr));
  return out;
}

}  // namespace

json summarize_runs(const Scenario& sc, const std::vector<RunResult>& runs) {
  if (runs.size() == 1) return summarize_run(sc, runs.front());
  std::vector<json> each;
  for (const RunResult& r : runs) each.push_back(summarize_run(sc, r));
  const json& first = each.front();
  auto dist = [&](const std::string& ptr) { return distribution_of(gather(each, json::json_pointer(ptr))); };
  json s;
  s["runs"] = runs.size();
  json seeds = json::array();
  for (const RunResult& r : runs) seeds.push_back(r.seed);
  s["seeds"] = seeds;
  s["agents"] = first["agents"];
  s["evacuated"] = dist("/evacuated");
  s["not_evacuated"] = dist("/not_evacuated");
  s["evacuation_time_s"] = dist("/evacuation_time_s");
  json pct;
  for (const char* p : {"50", "90", "95", "100"}) pct[p] = dist(std::string("/time_percentiles_s/") + p);
  s["time_percentiles_s"] = pct;
  s["egress_limit_s"] = first["egress_limit_s"];
  std::size_t within = 0;
  for (const json& r : each) within += r["within_limit"].get<bool>() ? 1 : 0;
  s["within_limit"] = within == each.size();
  s["within_limit_share"] = static_cast<double>(within) / static_cast<double>(each.size());
  json exits = json::object();
  for (auto it = first["exits"].begin(); it != first["exits"].end(); ++it) {
    const std::string base = "/exits/" + it.key() + "/";
    exits[it.key()] = {{"count", dist(base + "count")}, {"first_s", dist(base + "first_s")},
                       {"last_s", dist(base + "last_s")}, {"mean_flow_p_s", dist(base + "mean_flow_p_s")}};
  }
  s["exits"] = exits;
  json lines = json::object();
  for (auto it = first["lines"].begin(); it != first["lines"].end(); ++it) {
    const std::string base = "/lines/" + it.key() + "/";
    lines[it.key()] = {{"count", dist(base + "count")}, {"flow_p_s", dist(base + "flow_p_s")},
                       {"specific_flow_p_m_s", dist(base + "specific_flow_p_m_s")}};
  }
  s["lines"] = lines;
  s["peak_density_p_m2"] = first["peak_density_p_m2"].is_null() ? json(nullptr)
                                                                  : json{{"value", dist("/peak_density_p_m2/value")}};
  std::size_t steps = 0;
  std::size_t agent_steps = 0;
  double wall = 0;
  double loop = 0;
  bool max_time = false;
  for (const RunResult& r : runs) {
    steps += r.steps;
    agent_steps += r.agent_steps;
    wall += r.wall_s;
    loop += r.loop_wall_s();
    max_time = max_time || r.max_time_reached;
  }
  s["steps"] = steps;
  s["wall_s"] = round_to(wall, 0.001);
  s["agent_steps_per_s"] = loop > 0 ? std::round(static_cast<double>(agent_steps) / loop) : 0.0;
  s["threads"] = runs.front().threads;
  s["seed"] = runs.front().seed;
  s["max_time_reached"] = max_time;
  s["model"] = sc.model.name;
  s["time_step_s"] = sc.time_step_s;
  s["per_run"] = each;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Files

namespace {

std::string fmt(double x) {
  std::ostringstream os;
  os.precision(10);
  os << x;
  return os.str();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The whole seconds 0, 1, ... covering the run.
std::size_t seconds_of(const RunResult& r) {
  return static_cast<std::size_t>(std::ceil(r.end_time_s - 1e-9)) + 1;
}

Expected<void, Error> write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return unexpected(Error{p.string(), "cannot write"});
  return {};
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string report_html(const Scenario& sc, const std::vector<RunResult>& runs, const json& summary,
                        const PlaybackRecorder* playback);

}  // namespace

namespace {
// Frames offered every frame_dt seconds; every keep_every()-th is kept so that frames are at
// least 0.5 s apart.
std::size_t keep_every(double frame_dt_s) {
  return frame_dt_s > 0 ? std::max<std::size_t>(
                              1, static_cast<std::size_t>(std::ceil(0.5 / frame_dt_s - 1e-9)))
                        : 1;
}
}  // namespace

double PlaybackRecorder::frame_dt_s() const {
  return frame_dt_s_ * static_cast<double>(keep_every(frame_dt_s_));
}

void PlaybackRecorder::frame(std::int64_t, const std::vector<FrameAgent>& agents) {
  if (truncated_) return;
  if (seen_ == 0) {
    agents_total_ = agents.size();
    stride_ = std::max<std::size_t>(
        1, (agents.size() + max_agents_ - 1) / std::max<std::size_t>(1, max_agents_));
  }
  if (seen_++ % keep_every(frame_dt_s_) != 0) return;
  std::vector<int> f;
  f.reserve(agents.size() / stride_ * 4 + 4);
  for (const FrameAgent& a : agents) {
    if (a.id % static_cast<std::int64_t>(stride_) != 0) continue;
    f.push_back(static_cast<int>(a.id));
    f.push_back(static_cast<int>(std::lround(a.x * 10)));
    f.push_back(static_cast<int>(std::lround(a.y * 10)));
    f.push_back(a.level);
  }
  if (points_ + f.size() / 4 > max_points_) {
    truncated_ = true;
    return;
  }
  points_ += f.size() / 4;
  frames_.push_back(std::move(f));
}

Expected<void, Error> write_results(const std::filesystem::path& dir, const Scenario& sc,
                                    const std::vector<RunResult>& runs, const json& summary,
                                    const PlaybackRecorder* playback) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unexpected(Error{dir.string(), "cannot create directory: " + ec.message()});
  const venue::Venue& v = *sc.venue;
  const bool multi = runs.size() > 1;
  const std::string run_col = multi ? "run," : "";

  std::string curve = run_col + "time_s,evacuated\n";
  std::string exits = run_col + "time_s,exit_id,count\n";
  std::string density = run_col + "time_s,zone_id,persons,density_p_m2\n";
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const RunResult& r = runs[k];
    const std::string prefix = multi ? std::to_string(k + 1) + "," : "";
    const std::vector<double> times = sorted_times(r);
    const std::size_t secs = seconds_of(r);
    std::vector<std::vector<double>> by_exit(v.exits.size());
    for (std::size_t i = 0; i < r.agents; ++i)
      if (r.exit_used[i] >= 0) by_exit[static_cast<std::size_t>(r.exit_used[i])].push_back(r.evacuation_time_s[i]);
    for (auto& t : by_exit) std::sort(t.begin(), t.end());
    for (std::size_t s = 0; s < secs; ++s) {
      const double t = static_cast<double>(s);
      const auto out = std::upper_bound(times.begin(), times.end(), t + 1e-9) - times.begin();
      curve += prefix + fmt(t) + "," + std::to_string(out) + "\n";
      for (std::size_t e = 0; e < v.exits.size(); ++e) {
        if (sc.closed.count(v.exits[e].id)) continue;
        const auto c = std::upper_bound(by_exit[e].begin(), by_exit[e].end(), t + 1e-9) - by_exit[e].begin();
        exits += prefix + fmt(t) + "," + csv_field(v.exits[e].id) + "," + std::to_string(c) + "\n";
      }
    }
    for (std::size_t s = 0; s < r.zone_persons.size(); ++s) {
      for (std::size_t z = 0; z < v.zones.size(); ++z) {
        const double area = v.zones[z].area_m2;
        const std::uint32_t p = r.zone_persons[s][z];
        density += prefix + fmt(r.sample_time_s[s]) + "," + csv_field(v.zones[z].id) + "," + std::to_string(p) + "," +
                   fmt(area > 0 ? round_to(p / area, 0.0001) : 0.0) + "\n";
      }
    }
  }
  for (const auto& [name, text] : {std::pair<const char*, std::string>{"summary.json", summary.dump(2) + "\n"},
                                   {"evacuation_curve.csv", curve},
                                   {"exits.csv", exits},
                                   {"density.csv", density},
                                   {"report.html", report_html(sc, runs, summary, playback)}}) {
    auto ok = write_file(dir / name, text);
    if (!ok) return ok;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Trajectories (JuPedSim SQLite format, version 2)

namespace {

void ring_wkt(const geom::Ring& r, std::string& out) {
  out += "(";
  for (std::size_t i = 0; i <= r.size(); ++i) {
    const geom::Vec2& p = r[i % r.size()];
    out += (i ? ", " : "") + fmt(p.x) + " " + fmt(p.y);
  }
  out += ")";
}

void polygon_wkt(const geom::Polygon& p, std::string& out) {
  out += "(";
  ring_wkt(p.outer, out);
  for (const geom::Ring& h : p.holes) {
    out += ", ";
    ring_wkt(h, out);
  }
  out += ")";
}

std::int64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<std::int64_t>(h >> 1);
}

}  // namespace

std::string venue_wkt(const venue::Venue& v) {
  std::vector<const geom::Polygon*> parts;
  for (const auto& [index, level] : v.levels)
    for (const geom::Polygon& p : level.walkable) parts.push_back(&p);
  for (const venue::Stair& s : v.stairs) parts.push_back(&s.footprint);
  if (parts.size() == 1) {
    std::string out = "POLYGON ";
    polygon_wkt(*parts.front(), out);
    return out;
  }
  std::string out = "MULTIPOLYGON (";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ", ";
    polygon_wkt(*parts[i], out);
  }
  return out + ")";
}

struct SqliteTrajectoryWriter::Impl {
  sqlite3* db = nullptr;
  sqlite3_stmt* insert_traj = nullptr;
  sqlite3_stmt* insert_frame = nullptr;
  std::int64_t geometry_hash = 0;
  std::string error;
  std::size_t frames_in_tx = 0;

  bool exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      if (error.empty()) error = std::string(msg ? msg : "sqlite error") + " in: " + sql;
      sqlite3_free(msg);
      return false;
    }
    return true;
  }
  void finish() {
    if (insert_traj) sqlite3_finalize(insert_traj);
    if (insert_frame) sqlite3_finalize(insert_frame);
    insert_traj = insert_frame = nullptr;
    if (db) sqlite3_close(db);
    db = nullptr;
  }
};

Expected<std::unique_ptr<SqliteTrajectoryWriter>, Error> SqliteTrajectoryWriter::open(
    const std::filesystem::path& path, const venue::Venue& venue, double fps) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::unique_ptr<SqliteTrajectoryWriter> w(new SqliteTrajectoryWriter());
  w->impl_ = std::make_unique<Impl>();
  Impl& im = *w->impl_;
  if (sqlite3_open(path.string().c_str(), &im.db) != SQLITE_OK) {
    const std::string msg = im.db ? sqlite3_errmsg(im.db) : "cannot open";
    im.finish();
    return unexpected(Error{path.string(), msg});
  }
  const std::string wkt = venue_wkt(venue);
  im.geometry_hash = fnv1a(wkt);
  geom::Box b;
  for (const auto& [index, level] : venue.levels) b.extend(geom::bounds(level.walkable));
  for (const venue::Stair& s : venue.stairs) b.extend(geom::bounds(s.footprint));
  bool ok = im.exec("PRAGMA synchronous=OFF") && im.exec("PRAGMA journal_mode=OFF") && im.exec("BEGIN") &&
            im.exec("CREATE TABLE trajectory_data (frame INTEGER NOT NULL, id INTEGER NOT NULL, pos_x REAL NOT NULL, "
                    "pos_y REAL NOT NULL, ori_x REAL NOT NULL, ori_y REAL NOT NULL)") &&
            im.exec("CREATE TABLE metadata(key TEXT NOT NULL UNIQUE PRIMARY KEY, value TEXT NOT NULL)") &&
            im.exec("CREATE TABLE geometry(hash INTEGER NOT NULL, wkt TEXT NOT NULL)") &&
            im.exec("CREATE UNIQUE INDEX geometry_hash ON geometry(hash)") &&
            im.exec("CREATE TABLE frame_data(frame INTEGER NOT NULL, geometry_hash INTEGER NOT NULL)");
  if (ok) {
    sqlite3_stmt* st = nullptr;
    ok = sqlite3_prepare_v2(im.db, "INSERT INTO metadata VALUES(?, ?)", -1, &st, nullptr) == SQLITE_OK;
    const std::pair<std::string, std::string> meta[] = {
        {"version", "2"}, {"fps", fmt(fps)}, {"xmin", fmt(b.min.x)}, {"xmax", fmt(b.max.x)},
        {"ymin", fmt(b.min.y)}, {"ymax", fmt(b.max.y)}};
    for (const auto& [k, val] : meta) {
      if (!ok) break;
      sqlite3_bind_text(st, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, val.c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(st) == SQLITE_DONE;
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = nullptr;
    ok = ok && sqlite3_prepare_v2(im.db, "INSERT INTO geometry VALUES(?, ?)", -1, &st, nullptr) == SQLITE_OK;
    if (ok) {
      sqlite3_bind_int64(st, 1, im.geometry_hash);
      sqlite3_bind_text(st, 2, wkt.c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
  }
  ok = ok &&
       sqlite3_prepare_v2(im.db, "INSERT INTO trajectory_data VALUES(?, ?, ?, ?, ?, ?)", -1, &im.insert_traj, nullptr) ==
           SQLITE_OK &&
       sqlite3_prepare_v2(im.db, "INSERT INTO frame_data VALUES(?, ?)", -1, &im.insert_frame, nullptr) == SQLITE_OK;
  if (!ok) {
    const std::string msg = !im.error.empty() ? im.error : sqlite3_errmsg(im.db);
    im.finish();
    return unexpected(Error{path.string(), msg});
  }
  return w;
}

SqliteTrajectoryWriter::~SqliteTrajectoryWriter() {
  if (impl_) impl_->finish();
}

void SqliteTrajectoryWriter::frame(std::int64_t frame, const std::vector<FrameAgent>& agents) {
  Impl& im = *impl_;
  // An empty frame (the one after the last person left) has no trajectory rows, so it gets no
  // frame_data row either: every frame in frame_data has people in trajectory_data.
  if (!im.db || !im.error.empty() || agents.empty()) return;
  for (const FrameAgent& a : agents) {
    sqlite3_bind_int64(im.insert_traj, 1, frame);
    sqlite3_bind_int64(im.insert_traj, 2, a.id);
    sqlite3_bind_double(im.insert_traj, 3, a.x);
    sqlite3_bind_double(im.insert_traj, 4, a.y);
    sqlite3_bind_double(im.insert_traj, 5, a.ori_x);
    sqlite3_bind_double(im.insert_traj, 6, a.ori_y);
    if (sqlite3_step(im.insert_traj) != SQLITE_DONE) im.error = sqlite3_errmsg(im.db);
    sqlite3_reset(im.insert_traj);
  }
  sqlite3_bind_int64(im.insert_frame, 1, frame);
  sqlite3_bind_int64(im.insert_frame, 2, im.geometry_hash);
  if (sqlite3_step(im.insert_frame) != SQLITE_DONE) im.error = sqlite3_errmsg(im.db);
  sqlite3_reset(im.insert_frame);
  if (++im.frames_in_tx >= 200) {
    im.exec("COMMIT");
    im.exec("BEGIN");
    im.frames_in_tx = 0;
  }
}

Expected<void, Error> SqliteTrajectoryWriter::close() {
  Impl& im = *impl_;
  if (im.db) {
    im.exec("CREATE INDEX frame_id_idx ON trajectory_data(frame, id)");
    im.exec("COMMIT");
  }
  im.finish();
  if (!im.error.empty()) return unexpected(Error{"trajectories.sqlite", im.error});
  return {};
}

// ---------------------------------------------------------------------------------------------
// report.html: one self-contained page (inline SVG and script, no external resources) that a
// planner reads at a glance: the verdict first, then the figures, charts, the density map and the
// trajectory playback; the per-run details and the raw summary are collapsed at the bottom.

namespace {

constexpr const char* kExitColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                        "#7f7f7f", "#bcbd22", "#393b79", "#637939"};
constexpr std::size_t kExitColourCount = sizeof(kExitColours) / sizeof(kExitColours[0]);

double dbl(std::size_t n) { return static_cast<double>(n); }

// 5620 -> "5,620"
std::string thousands(std::size_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

// x with at most `decimals` decimals, trailing zeros dropped; "–" when not finite.
std::string num(double x, int decimals = 1) {
  if (!std::isfinite(x)) return "\u2013";
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(decimals);
  os << x;
  std::string s = os.str();
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// "212.4 s (3 min 32 s)"
std::string seconds(double t) {
  if (!std::isfinite(t)) return "\u2013";
  std::string s = num(t, 1) + "&nbsp;s";
  if (t >= 90) {
    const long whole = std::lround(t);
    s += " (" + std::to_string(whole / 60) + "&nbsp;min";
    if (whole % 60) s += " " + std::to_string(whole % 60) + "&nbsp;s";
    s += ")";
  }
  return s;
}

// A figure of summary.json: a number, a Monte Carlo distribution (its mean, with p5–p95) or null.
std::string figure(const json& j, const std::function<std::string(double)>& f) {
  if (j.is_number()) return f(j.get<double>());
  if (j.is_object() && j.contains("mean") && j["mean"].is_number())
    return f(j["mean"].get<double>()) + " <span class='dim'>(p5\u2013p95 " +
           f(j["p5"].get<double>()) + " \u2013 " + f(j["p95"].get<double>()) + ")</span>";
  return "\u2013";
}

// A round tick step giving about `ticks` ticks over `range`.
double nice_step(double range, int ticks) {
  if (!(range > 0)) return 1;
  const double raw = range / ticks;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double n = raw / mag;
  return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
}
double nice_ceil(double x, int ticks) {
  if (!(x > 0)) return 1;
  const double s = nice_step(x, ticks);
  return std::ceil(x / s - 1e-9) * s;
}

struct Chart {
  double w = 1030, h = 330, l = 62, r = 20, t = 18, b = 44;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double X(double x) const { return l + (x - x0) / (x1 - x0) * (w - l - r); }
  double Y(double y) const { return h - b - (y - y0) / (y1 - y0) * (h - t - b); }
};

// A pixel coordinate, to 0.1 px.
std::string px(double v) { return num(v, 1); }

std::string chart_open(const Chart& c, const std::string& cls, const std::string& label) {
  return "<svg class='" + cls + "' viewBox='0 0 " + px(c.w) + " " + px(c.h) + "' width='" +
         px(c.w) + "' height='" + px(c.h) + "' role='img' aria-label='" + html_escape(label) + "'>";
}

// Grid, ticks and axis titles.
std::string chart_axes(const Chart& c, const std::string& xl, const std::string& yl, int xticks = 8,
                       int yticks = 5) {
  std::ostringstream o;
  o << "<g class='grid'>";
  const double xs = nice_step(c.x1 - c.x0, xticks);
  for (double x = std::ceil(c.x0 / xs - 1e-9) * xs; x <= c.x1 + 1e-9 * xs; x += xs)
    o << "<line x1='" << px(c.X(x)) << "' x2='" << px(c.X(x)) << "' y1='" << px(c.t) << "' y2='"
      << px(c.h - c.b) << "'/><text class='tx' x='" << px(c.X(x)) << "' y='" << px(c.h - c.b + 15)
      << "'>" << num(x, 2) << "</text>";
  const double ys = nice_step(c.y1 - c.y0, yticks);
  for (double y = std::ceil(c.y0 / ys - 1e-9) * ys; y <= c.y1 + 1e-9 * ys; y += ys)
    o << "<line x1='" << px(c.l) << "' x2='" << px(c.w - c.r) << "' y1='" << px(c.Y(y)) << "' y2='"
      << px(c.Y(y)) << "'/><text class='ty' x='" << px(c.l - 6) << "' y='" << px(c.Y(y) + 4) << "'>"
      << (ys >= 1 && y >= 1000 ? thousands(static_cast<std::size_t>(std::lround(y))) : num(y, 2))
      << "</text>";
  o << "</g><path class='axis' d='M" << px(c.l) << "," << px(c.t) << "V" << px(c.h - c.b) << "H"
    << px(c.w - c.r) << "'/>";
  o << "<text class='xl' x='" << px(c.l + (c.w - c.l - c.r) / 2) << "' y='" << px(c.h - 6) << "'>"
    << xl << "</text>";
  o << "<text class='yl' transform='translate(14 " << px(c.t + (c.h - c.t - c.b) / 2)
    << ") rotate(-90)'>" << yl << "</text>";
  return o.str();
}

// Evacuated people against time, every run (at most 50), with the egress limit (`zoom`: over the
// run only, the limit drawn only if it falls inside).
std::string curve_svg(const venue::Venue& v, const std::vector<RunResult>& runs, double t_end,
                      bool zoom) {
  const RunResult& r = runs.front();
  Chart c;
  if (zoom) c.h = 260;
  c.x1 = std::max(1.0, t_end);
  const double limit = v.egress_limit_s;
  const bool limit_on_chart = limit > 0 && (!zoom || limit <= c.x1);
  if (limit_on_chart) c.x1 = std::max(c.x1, limit * 1.03);
  c.x1 = nice_ceil(c.x1, 8);
  c.y1 = nice_ceil(std::max(1.0, dbl(r.agents)), 5);
  std::ostringstream o;
  o << chart_open(c, zoom ? "chart zoom" : "chart",
                  zoom ? "evacuation curve, zoomed" : "evacuation curve")
    << chart_axes(c, "time (s)", "people evacuated");
  // Everyone: a dashed line at the number of people.
  o << "<line class='total' x1='" << px(c.l) << "' x2='" << px(c.w - c.r) << "' y1='"
    << px(c.Y(dbl(r.agents))) << "' y2='" << px(c.Y(dbl(r.agents))) << "'/><text class='note' x='"
    << px(c.l + 4) << "' y='" << px(c.Y(dbl(r.agents)) - 4) << "'>" << thousands(r.agents)
    << " people</text>";
  const std::size_t shown = std::min<std::size_t>(runs.size(), 50);
  const int samples = runs.size() > 1 ? 240 : 720;
  for (std::size_t k = shown; k-- > 0;) {
    const std::vector<double> t = sorted_times(runs[k]);
    const double end = std::max(runs[k].end_time_s, t.empty() ? 0.0 : t.back());
    o << "<polyline class='" << (k == 0 ? "run" : "mc") << "' points='";
    for (int i = 0; i <= samples; ++i) {
      const double x = end * i / samples;
      const auto n = std::upper_bound(t.begin(), t.end(), x + 1e-9) - t.begin();
      o << px(c.X(x)) << "," << px(c.Y(static_cast<double>(n))) << (i < samples ? " " : "");
    }
    o << "'/>";
  }
  // Percentile marks of the first run.
  const std::vector<double> t = sorted_times(r);
  for (int p : {50, 90, 100}) {
    const auto need = static_cast<std::size_t>(std::ceil(p / 100.0 * dbl(r.agents) - 1e-9));
    if (need == 0 || need > t.size()) continue;
    const double x = t[need - 1];
    o << "<circle class='mark' cx='" << px(c.X(x)) << "' cy='" << px(c.Y(dbl(need)))
      << "' r='3.5'/><text class='note' x='" << px(c.X(x) + 6) << "' y='" << px(c.Y(dbl(need)) + 13)
      << "'>" << p << "% \u00b7 " << num(x, 0) << " s</text>";
  }
  if (limit_on_chart) {
    o << "<line class='limit' x1='" << px(c.X(limit)) << "' x2='" << px(c.X(limit)) << "' y1='"
      << px(c.t) << "' y2='" << px(c.h - c.b) << "'/><text class='limitl' x='" << px(c.X(limit) - 4)
      << "' y='" << px(c.t + 12) << "'>egress limit " << num(limit, 0) << " s</text>";
  } else if (limit > 0) {
    o << "<text class='limitl' x='" << px(c.w - c.r) << "' y='" << px(c.t + 12) << "'>egress limit "
      << num(limit, 0) << " s \u2192 (off the chart)</text>";
  }
  o << "</svg>";
  if (runs.size() > 1 && !zoom)
    o << "<p class='cap'>Dark line: run 1 (seed " << r.seed << "); light lines: the other "
      << (shown - 1) << " run(s)" << (shown < runs.size() ? " (the first 50 are drawn)" : "")
      << ".</p>";
  return o.str();
}

// Flow through each exit (first run) as small multiples sharing the y scale, in bins of `bin` s.
std::string flow_svgs(const Scenario& sc, const RunResult& r, double t_end) {
  const venue::Venue& v = *sc.venue;
  const double bin = t_end <= 600 ? 5 : t_end <= 1800 ? 10 : 30;
  const auto nbins = static_cast<std::size_t>(std::ceil(t_end / bin)) + 1;
  std::vector<std::vector<double>> flow(v.exits.size(), std::vector<double>(nbins, 0));
  std::vector<std::size_t> count(v.exits.size(), 0);
  double fmax = 0;
  for (std::size_t i = 0; i < r.agents; ++i) {
    if (r.exit_used[i] < 0 || std::isnan(r.evacuation_time_s[i])) continue;
    const auto e = static_cast<std::size_t>(r.exit_used[i]);
    const auto b = std::min(nbins - 1, static_cast<std::size_t>(r.evacuation_time_s[i] / bin));
    flow[e][b] += 1 / bin;
    ++count[e];
    fmax = std::max(fmax, flow[e][b]);
  }
  std::ostringstream o;
  o << "<div class='multiples'>";
  for (std::size_t e = 0; e < v.exits.size(); ++e) {
    const venue::Opening& ex = v.exits[e];
    const bool closed = sc.closed.count(ex.id) > 0;
    const char* colour = closed ? "#999" : kExitColours[e % kExitColourCount];
    Chart c;
    c.w = 340;
    c.h = 170;
    c.l = 44;
    c.r = 10;
    c.t = 26;
    c.b = 34;
    c.x1 = nice_ceil(std::max(1.0, t_end), 5);
    c.y1 = nice_ceil(std::max(0.1, fmax), 3);
    o << chart_open(c, "small", "flow through exit " + ex.id)
      << chart_axes(c, "time (s)", "persons/s", 5, 3);
    o << "<text class='title' x='" << px(c.l) << "' y='16'><tspan fill='" << colour
      << "'>\u25a0</tspan> " << html_escape(ex.id) << " \u2014 "
      << (closed ? std::string("closed") : thousands(count[e]) + " people")
      << (ex.name.empty() || ex.name == ex.id ? "" : "<title>" + html_escape(ex.name) + "</title>")
      << "</text>";
    if (!closed && count[e] > 0) {
      o << "<path fill='" << colour << "' fill-opacity='0.3' stroke='" << colour
        << "' stroke-width='1.2' d='M" << px(c.X(0)) << "," << px(c.Y(0));
      for (std::size_t b = 0; b < nbins; ++b) {
        const double x0 = dbl(b) * bin;
        const double x1 = std::min(c.x1, x0 + bin);
        o << "L" << px(c.X(x0)) << "," << px(c.Y(flow[e][b])) << "L" << px(c.X(x1)) << ","
          << px(c.Y(flow[e][b]));
        if (x1 >= c.x1) break;
      }
      o << "L" << px(c.X(std::min(c.x1, dbl(nbins) * bin))) << "," << px(c.Y(0)) << "Z'/>";
    }
    o << "</svg>";
  }
  o << "</div><p class='cap'>Persons per second leaving through each exit";
  if (sc.runs > 1) o << " in run 1";
  o << ", averaged over " << num(bin, 0) << " s bins; all charts share the same scales.</p>";
  return o.str();
}

// The table of exits: the summary's figures (distributions for Monte Carlo runs) with widths.
std::string exit_table(const Scenario& sc, const json& summary) {
  const venue::Venue& v = *sc.venue;
  const bool multi = summary.contains("runs");
  std::ostringstream o;
  o << "<table><tr><th>exit</th><th>name</th><th>level</th><th>width</th><th>people"
    << (multi ? " (mean)" : "")
    << "</th><th>share</th><th>first out</th><th>last out</th><th>mean flow</th><th>per metre "
       "width</th></tr>";
  const double agents = summary["agents"].is_number() ? summary["agents"].get<double>() : 0;
  for (std::size_t e = 0; e < v.exits.size(); ++e) {
    const venue::Opening& ex = v.exits[e];
    const json& s = summary["exits"].contains(ex.id) ? summary["exits"][ex.id] : json(nullptr);
    const bool closed = sc.closed.count(ex.id) > 0;
    auto mean_of = [](const json& j) {
      if (j.is_number()) return j.get<double>();
      if (j.is_object() && j.contains("mean") && j["mean"].is_number())
        return j["mean"].get<double>();
      return std::numeric_limits<double>::quiet_NaN();
    };
    const double count = s.is_null() ? 0 : mean_of(s["count"]);
    const double flow = s.is_null() ? 0 : mean_of(s["mean_flow_p_s"]);
    o << "<tr" << (closed ? " class='closed'" : "")
      << "><td><span style='color:" << (closed ? "#999" : kExitColours[e % kExitColourCount])
      << "'>\u25a0</span> " << html_escape(ex.id) << (closed ? " (closed)" : "") << "</td><td>"
      << html_escape(ex.name) << "</td><td>" << ex.level << "</td><td>"
      << (ex.width_m > 0 ? num(ex.width_m, 2) + "&nbsp;m" : "\u2013") << "</td><td class='n'>"
      << (s.is_null() ? "\u2013" : figure(s["count"], [](double x) { return num(x, 1); }))
      << "</td><td class='n'>"
      << (agents > 0 && std::isfinite(count) ? num(100 * count / agents, 1) + "%" : "\u2013")
      << "</td><td class='n'>"
      << (s.is_null() ? "\u2013"
                      : figure(s["first_s"], [](double x) { return num(x, 1) + "&nbsp;s"; }))
      << "</td><td class='n'>"
      << (s.is_null() ? "\u2013"
                      : figure(s["last_s"], [](double x) { return num(x, 1) + "&nbsp;s"; }))
      << "</td><td class='n'>"
      << (s.is_null()
              ? "\u2013"
              : figure(s["mean_flow_p_s"], [](double x) { return num(x, 2) + "&nbsp;p/s"; }))
      << "</td><td class='n'>"
      << (ex.width_m > 0 && std::isfinite(flow) && flow > 0
              ? num(flow / ex.width_m, 2) + "&nbsp;p/(m\u00b7s)"
              : "\u2013")
      << "</td></tr>";
  }
  o << "</table><p class='cap'>Mean flow: people through the exit divided by the time between the "
       "first and the "
       "last of them. For comparison, design guides commonly assume about 1.3 persons per metre "
       "per second for a "
       "busy exit on the level.</p>";
  return o.str();
}

// Peak density classes (persons/m²), upper bounds and colours.
struct DensityClass {
  double below;
  const char* colour;
  const char* label;
};
constexpr DensityClass kDensityClasses[] = {
    {0.5, "#ffffcc", "&lt; 0.5"},
    {1, "#ffeda0", "0.5\u20131"},
    {2, "#fed976", "1\u20132"},
    {3, "#feb24c", "2\u20133"},
    {4, "#fd8d3c", "3\u20134"},
    {5, "#f03b20", "4\u20135"},
    {std::numeric_limits<double>::infinity(), "#bd0026", "\u2265 5"}};
const char* density_colour(double d) {
  for (const DensityClass& c : kDensityClasses)
    if (d < c.below) return c.colour;
  return kDensityClasses[std::size(kDensityClasses) - 1].colour;
}

// Sets the value of the attribute `name` of the first element at or after `from` (before `end`).
void set_attr(std::string& svg, std::size_t from, std::size_t end, const std::string& name,
              const std::string& value) {
  const std::string key = " " + name + "=\"";
  const std::size_t k = svg.find(key, from);
  if (k == std::string::npos || k >= end) return;
  const std::size_t a = k + key.size();
  const std::size_t b = svg.find('"', a);
  if (b == std::string::npos) return;
  svg.replace(a, b - a, value);
}

// The plan of one level (venue::render_svg) with its zones coloured by peak density.
std::string density_plan(const venue::Venue& v, int level, const std::vector<double>& peak,
                         const std::vector<double>& peak_at) {
  venue::RenderOptions ro;
  ro.level = level;
  ro.labels = true;
  ro.width_px = 1040;
  std::string svg = venue::render_svg(v, ro);
  // Inline SVG needs no namespace declaration (and the page then names no URL at all).
  const std::string ns = " xmlns=\"http://www.w3.org/2000/svg\"";
  if (const std::size_t k = svg.find(ns); k != std::string::npos) svg.erase(k, ns.size());
  // At most about 1100 px tall on the page (the viewBox keeps the drawing).
  {
    const std::size_t head_end = svg.find('>');
    const std::size_t w0 = svg.find("width=\"");
    const std::size_t h0 = svg.find("height=\"");
    if (head_end != std::string::npos && w0 < head_end && h0 < head_end) {
      const double w = std::atof(svg.c_str() + w0 + 7);
      const double h = std::atof(svg.c_str() + h0 + 8);
      constexpr double kMaxHeight = 1100;
      if (w > 0 && h > kMaxHeight) {
        set_attr(svg, 0, head_end, "width", num(w * kMaxHeight / h, 0));
        set_attr(svg, 0, svg.find('>'), "height", num(kMaxHeight, 0));
      }
    }
  }
  // The zones come in venue order, each as <g class="zone" ...><title>..</title><path .../></g>.
  const std::string tag = "<g class=\"zone\"";
  std::size_t pos = 0;
  for (std::size_t z = 0; z < v.zones.size(); ++z) {
    if (v.zones[z].level != level) continue;
    pos = svg.find(tag, pos);
    if (pos == std::string::npos) break;
    const std::size_t end = svg.find("</g>", pos);
    if (end == std::string::npos) break;
    std::string end_text = svg.substr(end);  // keep positions simple: edit the group alone
    std::string g = svg.substr(pos, end - pos);
    const std::size_t t0 = g.find("<title>");
    const std::size_t t1 = g.find("</title>");
    if (t0 != std::string::npos && t1 != std::string::npos && t1 > t0)
      g.replace(t0 + 7, t1 - t0 - 7,
                html_escape("zone " + v.zones[z].id + ": peak " + num(peak[z], 2) +
                            " persons/m\u00b2 at " + num(peak_at[z], 0) + " s (area " +
                            num(v.zones[z].area_m2, 0) + " m\u00b2)"));
    const std::size_t p = g.find("<path");
    if (p != std::string::npos) {
      set_attr(g, p, g.size(), "fill", density_colour(peak[z]));
      set_attr(g, p, g.size(), "fill-opacity", "0.85");
      set_attr(g, p, g.size(), "stroke", "#555555");
      set_attr(g, p, g.size(), "stroke-opacity", "0.6");
      set_attr(g, p, g.size(), "stroke-width", "1");
    }
    svg = svg.substr(0, pos) + g + end_text;
    pos += g.size();
  }
  return svg;
}

std::string density_section(const Scenario& sc, const RunResult& r) {
  const venue::Venue& v = *sc.venue;
  std::vector<double> peak(v.zones.size(), 0);
  std::vector<double> peak_at(v.zones.size(), 0);
  std::vector<std::uint32_t> peak_persons(v.zones.size(), 0);
  for (std::size_t k = 0; k < r.zone_persons.size(); ++k)
    for (std::size_t z = 0; z < v.zones.size(); ++z) {
      if (!(v.zones[z].area_m2 > 0)) continue;
      const double d = r.zone_persons[k][z] / v.zones[z].area_m2;
      if (d > peak[z]) {
        peak[z] = d;
        peak_at[z] = r.sample_time_s[k];
        peak_persons[z] = r.zone_persons[k][z];
      }
    }
  std::ostringstream o;
  o << "<h2 id='density'>Peak density</h2><p class='cap'>Each zone is coloured by the highest "
       "average density "
       "(persons per m\u00b2 of its walkable area) it reached during "
    << (sc.runs > 1 ? "run 1" : "the run")
    << ", sampled once per second. A zone average hides local peaks inside large zones; "
       "hover over a zone for its figures.</p><div class='legend'>";
  for (const DensityClass& c : kDensityClasses)
    o << "<span><i style='background:" << c.colour << "'></i>" << c.label << "</span>";
  o << "<span class='dim'>persons/m\u00b2</span></div>";
  for (const auto& [index, level] : v.levels) {
    if (v.levels.size() > 1) o << "<h3>Level " << index << "</h3>";
    o << "<div class='plan'>" << density_plan(v, index, peak, peak_at) << "</div>";
  }
  std::vector<std::size_t> order;
  for (std::size_t z = 0; z < v.zones.size(); ++z) order.push_back(z);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return peak[a] > peak[b]; });
  o << "<table><tr><th>zone</th><th>level</th><th>walkable area</th><th>peak "
       "density</th><th>people then</th>"
       "<th>at</th><th>zone capacity</th></tr>";
  for (std::size_t z : order) {
    const venue::Zone& zone = v.zones[z];
    o << "<tr><td><span style='color:" << density_colour(peak[z]) << "'>\u25a0</span> "
      << html_escape(zone.id) << "</td><td>" << zone.level << "</td><td class='n'>"
      << num(zone.area_m2, 0) << "&nbsp;m\u00b2</td><td class='n'><b>" << num(peak[z], 2)
      << "</b>&nbsp;p/m\u00b2</td><td class='n'>" << thousands(peak_persons[z])
      << "</td><td class='n'>" << num(peak_at[z], 0) << "&nbsp;s</td><td class='n'>"
      << (zone.capacity > 0 ? thousands(static_cast<std::size_t>(std::lround(zone.capacity)))
                            : "\u2013")
      << "</td></tr>";
  }
  o << "</table>";
  return o.str();
}

// The alphabet of the playback's position steps: one character per step of -31..31 decimetres.
constexpr const char* kStepAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
// Tracks beyond this many characters in all are thinned further (people dropped, 1 in n).
constexpr std::size_t kTrackBudgetChars = 2400000;

json ring_dm(const geom::Ring& ring) {
  json pts = json::array();
  for (const geom::Vec2& p : ring) {
    pts.push_back(std::lround(p.x * 10));
    pts.push_back(std::lround(p.y * 10));
  }
  return pts;
}

// "~x,y,level;"
void append_absolute(std::string& s, int x, int y, int l) {
  s += '~';
  s += std::to_string(x);
  s += ',';
  s += std::to_string(y);
  s += ',';
  s += std::to_string(l);
  s += ';';
}

// The trajectory playback: the recorded frames of the first run as one track per person
// (first frame, then "~x,y,level;" and two characters per later frame for the step in x and y,
// decimetres), drawn on a canvas with the level outlines, zones, exits and hazards.
std::string playback_section(const Scenario& sc, const RunResult& r, const PlaybackRecorder& pb) {
  const venue::Venue& v = *sc.venue;
  struct Track {
    int id;
    std::size_t f0;
    std::size_t last;
    int x, y, l;
    std::string s;
  };
  std::vector<Track> tracks;
  std::unordered_map<int, std::size_t> open;
  const auto& frames = pb.frames();
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const std::vector<int>& q = frames[f];
    for (std::size_t i = 0; i + 3 < q.size(); i += 4) {
      const int id = q[i], x = q[i + 1], y = q[i + 2], l = q[i + 3];
      auto it = open.find(id);
      if (it == open.end() || tracks[it->second].last + 1 != f) {
        open[id] = tracks.size();
        tracks.push_back({id, f, f, x, y, l, {}});
        append_absolute(tracks.back().s, x, y, l);
        continue;
      }
      Track& t = tracks[it->second];
      const int dx = x - t.x, dy = y - t.y;
      if (l == t.l && std::abs(dx) <= 31 && std::abs(dy) <= 31) {
        t.s += kStepAlphabet[dx + 31];
        t.s += kStepAlphabet[dy + 31];
      } else {
        append_absolute(t.s, x, y, l);
      }
      t.x = x;
      t.y = y;
      t.l = l;
      t.last = f;
    }
  }
  // Thin further when the tracks would still make the page large.
  std::size_t chars = 0;
  for (const Track& t : tracks) chars += t.s.size();
  std::set<int> ids;
  for (const Track& t : tracks) ids.insert(t.id);
  const std::size_t thin =
      chars > kTrackBudgetChars ? (chars + kTrackBudgetChars - 1) / kTrackBudgetChars : 1;
  std::set<int> kept;
  {
    std::size_t rank = 0;
    for (int id : ids)
      if (rank++ % thin == 0) kept.insert(id);
  }
  json tr = json::array();
  for (const Track& t : tracks)
    if (kept.count(t.id)) tr.push_back(json::array({t.f0, t.s}));

  json levels = json::object();
  for (const auto& [index, level] : v.levels) {
    json rings = json::array();
    geom::Box box;
    for (const geom::Polygon& poly : level.walkable) {
      rings.push_back(ring_dm(poly.outer));
      for (const geom::Ring& h : poly.holes) rings.push_back(ring_dm(h));
      box.extend(geom::bounds(poly));
    }
    for (const venue::Stair& st : v.stairs)
      if (st.from_level == index || st.to_level == index) {
        rings.push_back(ring_dm(st.footprint.outer));
        box.extend(geom::bounds(st.footprint));
      }
    if (box.empty()) continue;
    json zones = json::array();
    for (const venue::Zone& z : v.zones)
      if (z.level == index) zones.push_back(ring_dm(z.polygon.outer));
    json exits = json::array();
    for (const venue::Opening& e : v.exits)
      if (e.level == index)
        exits.push_back({std::lround(e.line.a.x * 10), std::lround(e.line.a.y * 10),
                         std::lround(e.line.b.x * 10), std::lround(e.line.b.y * 10),
                         sc.closed.count(e.id) ? 1 : 0});
    levels[std::to_string(index)] = {{"box",
                                      {std::lround(box.min.x * 10), std::lround(box.min.y * 10),
                                       std::lround(box.max.x * 10), std::lround(box.max.y * 10)}},
                                     {"rings", rings},
                                     {"zones", zones},
                                     {"exits", exits}};
  }
  if (levels.empty()) return "";
  json hazards = json::array();
  for (const ScenarioHazard& h : sc.hazards)
    hazards.push_back({{"l", h.level}, {"t", h.from_s}, {"r", ring_dm(h.polygon.outer)}});
  const double dt = pb.frame_dt_s();
  const std::vector<double> times = sorted_times(r);
  json ev = json::array();
  for (std::size_t f = 0; f < frames.size(); ++f)
    ev.push_back(std::upper_bound(times.begin(), times.end(), dbl(f) * dt + 1e-9) - times.begin());
  json data = {{"dt", dt},         {"nf", frames.size()}, {"total", r.agents}, {"ev", ev},
               {"levels", levels}, {"hz", hazards},       {"tracks", tr}};
  std::string js = data.dump();
  for (std::size_t k = js.find("</"); k != std::string::npos; k = js.find("</", k + 2))
    js.replace(k, 2, "<\\/");

  const std::size_t stride = pb.agent_stride() * thin;
  std::ostringstream o;
  o << "<h2 id='playback'>Trajectory playback</h2><p class='cap'>" << (sc.runs > 1 ? "Run 1. " : "")
    << "To keep this page small the playback is subsampled: one frame every " << num(dt, 2)
    << " s of simulated time";
  if (stride > 1)
    o << ", 1 in " << stride << " people (" << thousands(kept.size()) << " of "
      << thousands(pb.agents_total()) << " dots; each stands for about " << stride << " people)";
  else
    o << ", every person shown";
  o << ", positions rounded to 0.1 m."
    << (pb.truncated() ? " <b>The recording stops early</b> (size limit)." : "")
    << " The counter gives the evacuated people of the whole run. Full-rate trajectories: run with "
       "<code>--trajectories</code>.</p>"
    << "<div class='controls'><button id='pb-play' type='button'>\u25b6 play</button> "
       "<select id='pb-speed' title='playback speed'><option value='1'>1\u00d7</option><option "
       "value='5'>5\u00d7</option>"
       "<option value='10' selected>10\u00d7</option><option value='30'>30\u00d7</option></select> "
       "<select id='pb-level'></select> <input id='pb-t' type='range' min='0' value='0' step='1'> "
       "<span id='pb-time'></span></div><canvas id='pb-canvas' width='1040' height='600'></canvas>"
    << "<script type='application/json' id='pb-data'>" << js << "</script>"
    << R"JS(<script>(function(){
const D=JSON.parse(document.getElementById('pb-data').textContent);
const A='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-',V=new Int8Array(128);
for(let i=0;i<A.length;i++)V[A.charCodeAt(i)]=i-31;
const T=D.tracks.map(t=>{const s=t[1],o=[];let x=0,y=0,l=0,i=0;
 while(i<s.length){if(s.charCodeAt(i)===126){const j=s.indexOf(';',i),p=s.slice(i+1,j).split(',');x=+p[0];y=+p[1];l=+p[2];i=j+1;}
  else{x+=V[s.charCodeAt(i)];y+=V[s.charCodeAt(i+1)];i+=2;}o.push(x,y,l);}
 return{f0:t[0],n:o.length/3,p:Int32Array.from(o)};});
const cv=document.getElementById('pb-canvas'),g=cv.getContext('2d'),sl=document.getElementById('pb-t'),
 lv=document.getElementById('pb-level'),tm=document.getElementById('pb-time'),btn=document.getElementById('pb-play'),
 sp=document.getElementById('pb-speed');
const keys=Object.keys(D.levels).sort((a,b)=>a-b);
for(const k of keys){const o=document.createElement('option');o.value=k;o.text='level '+k;lv.add(o);}
if(keys.length<2)lv.style.display='none';
sl.max=Math.max(0,D.nf-1);
let P=null;
function setup(){const L=D.levels[lv.value],b=L.box,w=Math.max(1,b[2]-b[0]),h=Math.max(1,b[3]-b[1]);
 const s=Math.min(1020/w,760/h);cv.width=Math.ceil(w*s+20);cv.height=Math.ceil(h*s+20);
 const X=x=>10+(x-b[0])*s,Y=y=>10+(b[3]-y)*s;
 const bg=document.createElement('canvas');bg.width=cv.width;bg.height=cv.height;const q=bg.getContext('2d');
 q.fillStyle='#eef0f2';q.fillRect(0,0,bg.width,bg.height);
 const path=(c,r)=>{for(let i=0;i<r.length;i+=2){i?c.lineTo(X(r[i]),Y(r[i+1])):c.moveTo(X(r[i]),Y(r[i+1]));}c.closePath();};
 q.beginPath();for(const r of L.rings)path(q,r);q.fillStyle='#fff';q.fill('evenodd');q.strokeStyle='#333';q.lineWidth=1;q.stroke();
 q.setLineDash([4,3]);q.strokeStyle='#c8c8c8';for(const r of L.zones){q.beginPath();path(q,r);q.stroke();}q.setLineDash([]);
 q.lineWidth=5;for(const e of L.exits){q.strokeStyle=e[4]?'#d7191c':'#16a34a';q.beginPath();q.moveTo(X(e[0]),Y(e[1]));q.lineTo(X(e[2]),Y(e[3]));q.stroke();}
 P={bg:bg,X:X,Y:Y,path:path,r:Math.max(1.6,2*s)};}
function draw(){const f=+sl.value,t=f*D.dt,lvl=+lv.value;g.drawImage(P.bg,0,0);
 g.fillStyle='rgba(215,25,28,0.35)';for(const z of D.hz){if(z.l!==lvl||t<z.t)continue;g.beginPath();P.path(g,z.r);g.fill();}
 g.fillStyle='#1f5fbf';g.beginPath();let n=0;
 for(const k of T){const i=f-k.f0;if(i<0||i>=k.n)continue;n++;if(k.p[3*i+2]!==lvl)continue;
  const x=P.X(k.p[3*i]),y=P.Y(k.p[3*i+1]);g.moveTo(x+P.r,y);g.arc(x,y,P.r,0,6.2832);}
 g.fill();
 tm.textContent='t = '+t.toFixed(1)+' s \u00b7 '+(D.ev[f]||0).toLocaleString('en')+' of '+D.total.toLocaleString('en')+' evacuated \u00b7 '+n+' dots inside';}
let playing=false,last=0,acc=0;
function stop(){playing=false;btn.textContent='\u25b6 play';}
function tick(ts){if(!playing)return;if(last)acc+=(ts-last)/1000*(+sp.value);last=ts;
 const adv=Math.floor(acc/D.dt);if(adv>0){acc-=adv*D.dt;sl.value=Math.min(+sl.max,+sl.value+adv);draw();}
 if(+sl.value>=+sl.max){stop();return;}requestAnimationFrame(tick);}
btn.onclick=()=>{if(playing){stop();return;}if(+sl.value>=+sl.max)sl.value=0;playing=true;last=0;acc=0;
 btn.textContent='\u275a\u275a pause';requestAnimationFrame(tick);};
sl.oninput=draw;lv.onchange=()=>{setup();draw();};
setup();draw();})();</script>)JS";
  return o.str();
}

// The verdict: evacuation time against the egress limit, and anyone left behind and why.
std::string verdict_card(const Scenario& sc, const std::vector<RunResult>& runs,
                         const json& summary) {
  const venue::Venue& v = *sc.venue;
  const double limit = v.egress_limit_s;
  const RunResult& r = runs.front();
  bool good = true;
  std::string head;
  std::vector<std::string> lines;
  if (runs.size() == 1) {
    const std::vector<double> t = sorted_times(r);
    const std::size_t left = r.agents - t.size();
    const double last = t.empty() ? 0.0 : t.back();
    if (left == 0 && last <= limit) {
      head = "Everyone is out in " + seconds(last) + " \u2014 within the egress limit of " +
             seconds(limit);
      lines.push_back("Margin: " + num(limit - last, 1) + " s (" +
                      num(100 * (limit - last) / std::max(limit, 1e-9), 0) + "% of the limit).");
    } else if (left == 0) {
      good = false;
      head = "Over the egress limit: everyone is out in " + seconds(last) + ", the limit is " +
             seconds(limit);
      const auto inside = t.end() - std::upper_bound(t.begin(), t.end(), limit);
      lines.push_back(thousands(static_cast<std::size_t>(inside)) + " of " + thousands(r.agents) +
                      " people were still inside at the limit (" + num(last - limit, 1) +
                      " s over).");
    } else {
      good = false;
      head = "Not everyone got out: " + thousands(left) + " of " + thousands(r.agents) +
             " people were not evacuated";
      const auto inside = t.end() - std::upper_bound(t.begin(), t.end(), limit);
      lines.push_back("Egress limit " + seconds(limit) + ": " +
                      thousands(static_cast<std::size_t>(inside) + left) +
                      " people still inside then.");
    }
  } else {
    std::size_t over = 0;
    for (const json& s : summary["per_run"]) over += s["within_limit"].get<bool>() ? 0 : 1;
    const std::string et =
        figure(summary["evacuation_time_s"], [](double x) { return num(x, 1) + "&nbsp;s"; });
    if (over == 0) {
      head = "All " + std::to_string(runs.size()) + " runs are within the egress limit of " +
             seconds(limit);
    } else {
      good = false;
      head = std::to_string(over) + " of " + std::to_string(runs.size()) +
             " runs do not get everyone out within the egress limit of " + seconds(limit);
    }
    if (summary["evacuation_time_s"].is_object())
      lines.push_back("Evacuation time over the runs: " + et + ".");
    else
      lines.push_back(
          "Not everyone got out in every run, so there is no evacuation time over all runs.");
  }
  std::map<std::string, std::size_t> reasons;
  std::size_t max_time_runs = 0;
  for (const RunResult& rr : runs) {
    for (const auto& [why, n] : rr.not_evacuated) reasons[why] += n;
    if (rr.max_time_reached) ++max_time_runs;
  }
  for (const auto& [why, n] : reasons)
    lines.push_back("<b>" + thousands(n) + "</b> " +
                    (runs.size() > 1 ? "people over all runs " : "people ") +
                    "not evacuated: " + html_escape(why) + ".");
  if (max_time_runs > 0)
    lines.push_back("The simulation stopped at max_time_s = " + num(sc.max_time_s, 0) + " s" +
                    (runs.size() > 1 ? " in " + std::to_string(max_time_runs) + " run(s)" : "") +
                    ".");
  for (const std::string& w : sc.warnings) lines.push_back("Note: " + html_escape(w));
  std::ostringstream o;
  o << "<section class='verdict " << (good ? "ok" : "bad") << "'><div class='badge'>"
    << (good ? "WITHIN LIMIT" : "NOT WITHIN LIMIT") << "</div><h2 class='head'>" << head << "</h2>";
  for (const std::string& l : lines) o << "<p>" << l << "</p>";
  o << "</section>";
  return o.str();
}

std::string key_figures(const Scenario& sc, const std::vector<RunResult>& runs, const json& s) {
  const RunResult& r = runs.front();
  auto secs = [](double x) { return num(x, 1) + "&nbsp;s"; };
  std::ostringstream o;
  o << "<div class='figures'>";
  auto fig = [&](const std::string& label, const std::string& value, const std::string& sub = "") {
    o << "<div><div class='label'>" << label << "</div><div class='value'>" << value << "</div>"
      << (sub.empty() ? "" : "<div class='sub'>" + sub + "</div>") << "</div>";
  };
  // A figure as the big value (Monte Carlo: the mean) and its spread (p5–p95) for the sub line.
  auto big = [](const json& j, const std::function<std::string(double)>& f) {
    if (j.is_number()) return f(j.get<double>());
    if (j.is_object() && j.contains("mean") && j["mean"].is_number())
      return f(j["mean"].get<double>());
    return std::string("\u2013");
  };
  auto spread = [](const json& j, const std::function<std::string(double)>& f) {
    if (j.is_object() && j.contains("p5") && j["p5"].is_number())
      return "mean of the runs; p5\u2013p95 " + f(j["p5"].get<double>()) + " \u2013 " +
             f(j["p95"].get<double>());
    if (j.is_null()) return std::string("not everyone got out");
    return std::string();
  };
  auto count = [](double x) {
    return x == std::floor(x) && x >= 0 ? thousands(static_cast<std::size_t>(x)) : num(x, 1);
  };
  fig("people", thousands(r.agents),
      big(s["evacuated"], count) + " evacuated" + (runs.size() > 1 ? " (mean of the runs)" : ""));
  const json& p = s["time_percentiles_s"];
  for (const char* k : {"50", "90", "95"}) {
    const json& x = p[k];
    fig(std::string(k) + "% out by", big(x, secs), x.is_null() ? "never reached" : spread(x, secs));
  }
  {
    const json& x = p["100"];
    std::string sub = spread(x, secs);
    fig("everyone out by", big(x, secs),
        (sub.empty() ? "" : sub + "<br>") + "egress limit " + num(sc.venue->egress_limit_s, 0) +
            " s");
  }
  const json& pd = s["peak_density_p_m2"];
  auto dens = [](double x) { return num(x, 2); };
  if (pd.is_object() && pd.contains("zone"))
    fig("peak density", big(pd["value"], dens) + " p/m\u00b2",
        "zone " + html_escape(pd["zone"].get<std::string>()) + " at " +
            num(pd["at_s"].get<double>(), 0) + " s");
  else if (pd.is_object())
    fig("peak density", big(pd["value"], dens) + " p/m\u00b2", spread(pd["value"], dens));
  o << "</div>";
  return o.str();
}

std::string details_section(const Scenario& sc, const std::vector<RunResult>& runs,
                            const json& summary) {
  std::ostringstream o;
  o << "<details><summary>Run details and the raw summary</summary>";
  o << "<h3>Scenario</h3><table>";
  auto row = [&](const std::string& k, const std::string& v) {
    o << "<tr><th>" << k << "</th><td>" << v << "</td></tr>";
  };
  row("venue", html_escape(sc.venue_source));
  row("model", html_escape(sc.model.name));
  std::string params;
  for (const auto& [k, val] : sc.model.params)
    params += (params.empty() ? "" : ", ") + html_escape(k) + " = " + num(val, 4);
  row("model parameters", params.empty() ? "\u2013" : params);
  row("routing", sc.routing == Routing::quickest ? "quickest" : "nearest");
  row("time step", num(sc.time_step_s, 4) + " s");
  row("max time", num(sc.max_time_s, 0) + " s");
  row("runs",
      std::to_string(sc.runs) + " (seed " + std::to_string(sc.seed) +
          (sc.runs > 1 ? " to " + std::to_string(sc.seed + static_cast<std::uint64_t>(sc.runs) - 1)
                       : "") +
          ")");
  std::string closed;
  for (const std::string& c : sc.closed) closed += (closed.empty() ? "" : ", ") + html_escape(c);
  row("closed", closed.empty() ? "none" : closed);
  row("hazards", std::to_string(sc.hazards.size()));
  row("groups", std::to_string(sc.groups.size()));
  o << "</table><h3>Runs</h3><table><tr><th>run</th><th>seed</th><th>evacuated</th><th>not "
       "evacuated</th>"
       "<th>50%</th><th>95%</th><th>everyone</th><th>within limit</th><th>steps</th><th>wall "
       "time</th><th>threads</th></tr>";
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const json s = runs.size() > 1 ? summary["per_run"][k] : summary;
    auto t = [](const json& j) {
      return j.is_number() ? num(j.get<double>(), 1) + "&nbsp;s" : std::string("\u2013");
    };
    o << "<tr><td>" << k + 1 << "</td><td>" << runs[k].seed << "</td><td class='n'>"
      << s["evacuated"].dump() << "</td><td class='n'>" << s["not_evacuated"].dump()
      << "</td><td class='n'>" << t(s["time_percentiles_s"]["50"]) << "</td><td class='n'>"
      << t(s["time_percentiles_s"]["95"]) << "</td><td class='n'>" << t(s["evacuation_time_s"])
      << "</td><td>" << (s["within_limit"].get<bool>() ? "yes" : "<b>no</b>")
      << "</td><td class='n'>" << thousands(runs[k].steps) << "</td><td class='n'>"
      << num(runs[k].wall_s, 2) << "&nbsp;s</td><td class='n'>" << runs[k].threads << "</td></tr>";
  }
  o << "</table><h3>summary.json</h3><pre>" << html_escape(summary.dump(2)) << "</pre></details>";
  return o.str();
}

constexpr const char* kStyle =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu "
    "Sans',sans-serif;color:#1d2430;"
    "margin:0 auto;padding:24px;max-width:1080px;background:#fff}"
    "h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid "
    "#e3e6ea;"
    "padding-bottom:4px}h3{font-size:15px;margin:16px 0 "
    "6px}.sub,.dim,.cap{color:#5b6573}.cap{font-size:12.5px;"
    "margin:4px 0 10px}.verdict{border-radius:8px;padding:14px 18px;margin:16px 0;border-left:8px "
    "solid}"
    ".verdict.ok{background:#eaf7ee;border-color:#1a9641}.verdict.bad{background:#fdeceb;border-"
    "color:#d7191c}"
    ".verdict .head{border:0;margin:4px 0 6px;font-size:20px;padding:0}.verdict p{margin:3px 0}"
    ".badge{display:inline-block;font-weight:700;font-size:12px;letter-spacing:.06em;color:#fff;"
    "padding:2px 8px;border-radius:4px}.ok .badge{background:#1a9641}.bad "
    ".badge{background:#d7191c}"
    ".figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;"
    "margin:12px 0}"
    ".figures>div{border:1px solid #e3e6ea;border-radius:6px;padding:8px "
    "12px}.label{font-size:12px;color:#5b6573;"
    "text-transform:uppercase;letter-spacing:.04em}.value{font-size:20px;font-weight:650}.sub{font-"
    "size:12px}"
    "svg.chart,svg.small{max-width:100%;height:auto;font-size:11px;background:#fff}.multiples{"
    "display:flex;"
    "flex-wrap:wrap;gap:6px}.grid line{stroke:#e8eaed}.grid "
    "text{fill:#5b6573}.tx{text-anchor:middle}"
    ".ty{text-anchor:end}.axis{fill:none;stroke:#444}.xl,.yl{text-anchor:middle;fill:#333;font-"
    "size:12px}"
    ".title{font-size:12.5px;font-weight:600;fill:#1d2430}polyline.run{fill:none;stroke:#1f5fbf;"
    "stroke-width:2}"
    "polyline.mc{fill:none;stroke:#9db7e0;stroke-width:1;stroke-opacity:.7}.total{stroke:#999;"
    "stroke-dasharray:3 3}"
    ".limit{stroke:#d7191c;stroke-width:2;stroke-dasharray:6 "
    "4}.limitl{fill:#d7191c;text-anchor:end;font-weight:600}"
    ".note{fill:#333}.mark{fill:#1f5fbf;stroke:#fff}"
    ".plan svg{max-width:100%;height:auto;border:1px solid "
    "#e3e6ea}.legend{display:flex;flex-wrap:wrap;gap:10px;"
    "align-items:center;margin:6px 0 10px;font-size:12.5px}.legend "
    "i{display:inline-block;width:18px;height:12px;"
    "border:1px solid #999;margin-right:4px;vertical-align:-2px}"
    "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border-bottom:1px solid "
    "#e3e6ea;"
    "padding:4px 10px;text-align:left}td.n{text-align:right;white-space:nowrap}td.n "
    ".dim{display:block;"
    "white-space:normal;font-size:11.5px}table{display:block;overflow-x:auto;max-width:100%}tr."
    "closed{color:#999}"
    ".controls{display:flex;gap:8px;align-items:center;margin:8px "
    "0}#pb-t{flex:1}canvas{max-width:100%;"
    "border:1px solid #e3e6ea}button,select{font:inherit;padding:3px 10px}"
    "details{margin:28px 0;border:1px solid #e3e6ea;border-radius:6px;padding:8px "
    "12px}summary{cursor:pointer;"
    "font-weight:600}pre{font-size:12px;overflow:auto;max-height:480px;background:#f6f8fa;padding:"
    "8px}"
    "nav a{margin-right:14px;color:#1f5fbf}";

std::string report_html(const Scenario& sc, const std::vector<RunResult>& runs, const json& summary,
                        const PlaybackRecorder* playback) {
  const venue::Venue& v = *sc.venue;
  const RunResult& r = runs.front();
  double t_end = 1;
  for (const RunResult& rr : runs) {
    const std::vector<double> t = sorted_times(rr);
    t_end = std::max(
        {t_end, rr.max_time_reached ? rr.end_time_s : 0.0, t.empty() ? rr.end_time_s : t.back()});
  }
  const std::string title = v.name.empty() ? (v.id.empty() ? "venue" : v.id) : v.name;
  std::ostringstream o;
  o << "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
    << "<meta name='viewport' content='width=device-width,initial-scale=1'><title>Evacuation "
       "report: "
    << html_escape(title) << "</title><style>" << kStyle << "</style></head><body>";
  o << "<h1>Evacuation report: " << html_escape(title) << "</h1><div class='sub'>"
    << html_escape(sc.file.empty() ? std::string("scenario") : sc.file.filename().string())
    << " \u00b7 model " << html_escape(sc.model.name) << " \u00b7 routing "
    << (sc.routing == Routing::quickest ? "quickest" : "nearest") << " \u00b7 " << runs.size()
    << (runs.size() > 1 ? " runs" : " run") << " \u00b7 seed " << sc.seed << " \u00b7 time step "
    << num(sc.time_step_s, 3) << " s</div>";
  o << verdict_card(sc, runs, summary) << key_figures(sc, runs, summary);
  o << "<nav><a href='#curve'>evacuation curve</a><a href='#exits'>exits</a><a "
       "href='#density'>peak density</a>"
    << (playback ? "<a href='#playback'>playback</a>" : "") << "</nav>";
  o << "<h2 id='curve'>Evacuation curve</h2>" << curve_svg(v, runs, t_end, false);
  if (v.egress_limit_s > 2.5 * t_end)
    o << "<p class='cap'>The same, over the duration of the evacuation only:</p>"
      << curve_svg(v, runs, t_end, true);
  o << "<h2 id='exits'>Flow per exit</h2>" << flow_svgs(sc, r, t_end) << exit_table(sc, summary);
  o << density_section(sc, r);
  if (playback && !playback->frames().empty()) o << playback_section(sc, r, *playback);
  o << details_section(sc, runs, summary);
  o << "<p class='cap'>Written by Vigil. The figures come from a model of people's movement; see "
       "docs/simulation.md for the models, their sources and their limits of "
       "validity.</p></body></html>\n";
  return o.str();
}

}  // namespace

}  // namespace vigil::sim
