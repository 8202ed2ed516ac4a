// SPDX-License-Identifier: Apache-2.0
#include "sim/results.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <sqlite3.h>

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

void PlaybackRecorder::frame(std::int64_t, const std::vector<FrameAgent>& agents) {
  if (truncated_) return;
  if (points_ + agents.size() > max_points_) {
    truncated_ = true;
    return;
  }
  std::vector<int> f;
  f.reserve(agents.size() * 3);
  for (const FrameAgent& a : agents) {
    f.push_back(static_cast<int>(std::lround(a.x * 100)));
    f.push_back(static_cast<int>(std::lround(a.y * 100)));
    f.push_back(a.level);
  }
  points_ += agents.size();
  frames_.push_back(std::move(f));
}

json PlaybackRecorder::to_json() const { return {{"dt", frame_dt_s_}, {"frames", frames_}}; }

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
  if (!im.db || !im.error.empty()) return;
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
// report.html: one self-contained page with inline SVG.

namespace {

struct Plot {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double w = 640, h = 260, pad = 40;
  double px(double x) const { return pad + (x - x0) / (x1 - x0) * (w - 2 * pad); }
  double py(double y) const { return h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad); }
};

std::string axes(const Plot& p, const std::string& xl, const std::string& yl) {
  std::ostringstream o;
  o << "<line x1='" << p.pad << "' y1='" << p.h - p.pad << "' x2='" << p.w - p.pad << "' y2='" << p.h - p.pad
    << "' stroke='#444'/><line x1='" << p.pad << "' y1='" << p.pad << "' x2='" << p.pad << "' y2='" << p.h - p.pad
    << "' stroke='#444'/>";
  o << "<text x='" << p.w / 2 << "' y='" << p.h - 8 << "' text-anchor='middle'>" << xl << "</text>";
  o << "<text x='12' y='" << p.h / 2 << "' transform='rotate(-90 12 " << p.h / 2 << ")' text-anchor='middle'>" << yl
    << "</text>";
  o << "<text x='" << p.pad << "' y='" << p.h - p.pad + 14 << "' text-anchor='middle'>" << fmt(p.x0) << "</text>";
  o << "<text x='" << p.w - p.pad << "' y='" << p.h - p.pad + 14 << "' text-anchor='middle'>" << fmt(round_to(p.x1, 0.1))
    << "</text>";
  o << "<text x='" << p.pad - 4 << "' y='" << p.py(p.y1) + 4 << "' text-anchor='end'>" << fmt(round_to(p.y1, 0.1))
    << "</text>";
  o << "<text x='" << p.pad - 4 << "' y='" << p.h - p.pad + 4 << "' text-anchor='end'>0</text>";
  return o.str();
}

// The playback: level outlines and exits (cm) plus the recorded frames, drawn on a canvas.
std::string playback_html(const venue::Venue& v, const std::set<std::string>& closed, const PlaybackRecorder& pb) {
  json levels = json::object();
  geom::Box all;
  for (const auto& [index, level] : v.levels) {
    json rings = json::array();
    auto add = [&](const geom::Ring& r) {
      json pts = json::array();
      for (const geom::Vec2& p : r) {
        pts.push_back(std::lround(p.x * 100));
        pts.push_back(std::lround(p.y * 100));
      }
      rings.push_back(pts);
    };
    for (const geom::Polygon& poly : level.walkable) {
      add(poly.outer);
      for (const geom::Ring& h : poly.holes) add(h);
      all.extend(geom::bounds(poly));
    }
    for (const venue::Stair& st : v.stairs) {
      if (st.from_level == index || st.to_level == index) {
        add(st.footprint.outer);
        all.extend(geom::bounds(st.footprint));
      }
    }
    json exits = json::array();
    for (const venue::Opening& e : v.exits) {
      if (e.level != index || closed.count(e.id)) continue;
      exits.push_back({std::lround(e.line.a.x * 100), std::lround(e.line.a.y * 100), std::lround(e.line.b.x * 100),
                       std::lround(e.line.b.y * 100)});
    }
    levels[std::to_string(index)] = {{"rings", rings}, {"exits", exits}};
  }
  if (all.empty()) return "";
  json data = pb.to_json();
  data["levels"] = levels;
  data["box"] = {std::lround(all.min.x * 100), std::lround(all.min.y * 100), std::lround(all.max.x * 100),
                 std::lround(all.max.y * 100)};
  std::string js = data.dump();
  // Keep "</script>" out of the data.
  for (std::size_t k = js.find("</"); k != std::string::npos; k = js.find("</", k + 2)) js.replace(k, 2, "<\\/");
  std::ostringstream o;
  o << "<h2>Trajectory playback (first run)</h2>"
    << (pb.truncated() ? "<p>The recording was cut short to keep this page small.</p>" : "")
    << "<p><button id='play'>play</button> <select id='level'></select> <input id='t' type='range' min='0' value='0' "
       "style='width:60%'> <span id='time'></span></p><canvas id='plan' width='900' height='600'></canvas>"
    << "<script>const D=" << js << ";\n"
    << R"JS((function(){
const c=document.getElementById('plan'),g=c.getContext('2d'),sl=document.getElementById('t'),
 lv=document.getElementById('level'),tm=document.getElementById('time'),btn=document.getElementById('play');
const b=D.box,w=b[2]-b[0],h=b[3]-b[1],s=Math.min((c.width-20)/w,(c.height-20)/h);
c.height=Math.ceil(h*s+20);
const X=x=>10+(x-b[0])*s,Y=y=>10+(b[3]-y)*s;
for(const k of Object.keys(D.levels)){const o=document.createElement('option');o.value=k;o.text='level '+k;lv.add(o);}
sl.max=Math.max(0,D.frames.length-1);
function draw(){const f=D.frames[+sl.value]||[],L=D.levels[lv.value];g.clearRect(0,0,c.width,c.height);
 g.beginPath();for(const r of L.rings){for(let i=0;i<r.length;i+=2){i?g.lineTo(X(r[i]),Y(r[i+1])):g.moveTo(X(r[i]),Y(r[i+1]));}g.closePath();}
 g.fillStyle='#fff';g.fill('evenodd');g.strokeStyle='#333';g.stroke();
 g.strokeStyle='#0a0';g.lineWidth=4;for(const e of L.exits){g.beginPath();g.moveTo(X(e[0]),Y(e[1]));g.lineTo(X(e[2]),Y(e[3]));g.stroke();}
 g.lineWidth=1;g.fillStyle='#1f77b4';const rr=Math.max(1.5,20*s);
 for(let i=0;i<f.length;i+=3){if(String(f[i+2])!==lv.value)continue;g.beginPath();g.arc(X(f[i]),Y(f[i+1]),rr,0,6.283);g.fill();}
 tm.textContent=(sl.value*D.dt).toFixed(1)+' s, '+(f.length/3)+' inside';}
let timer=null;btn.onclick=()=>{if(timer){clearInterval(timer);timer=null;btn.textContent='play';return;}
 btn.textContent='pause';timer=setInterval(()=>{if(+sl.value>=+sl.max){clearInterval(timer);timer=null;btn.textContent='play';return;}
 sl.value=+sl.value+1;draw();},Math.max(20,1000*D.dt/4));};
sl.oninput=draw;lv.onchange=draw;draw();})();
</script>)JS";
  return o.str();
}

std::string report_html(const Scenario& sc, const std::vector<RunResult>& runs, const json& summary,
                        const PlaybackRecorder* playback) {
  const venue::Venue& v = *sc.venue;
  const RunResult& r = runs.front();
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  std::ostringstream o;
  o << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Vigil simulation report</title>"
    << "<style>body{font-family:sans-serif;margin:2em;max-width:960px}svg{background:#fafafa;border:1px solid #ddd}"
    << "text{font-size:11px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}</style>"
    << "</head><body><h1>Simulation report: " << html_escape(v.name.empty() ? v.id : v.name) << "</h1>";
  o << "<p>Model " << html_escape(sc.model.name) << ", time step " << fmt(sc.time_step_s) << " s, " << runs.size()
    << " run(s), seed " << sc.seed << ".</p>";
  o << "<h2>Summary</h2><pre>" << html_escape(summary.dump(2).substr(0, 4000)) << "</pre>";

  // Evacuation curves (every run).
  double t_max = 1;
  for (const RunResult& rr : runs) t_max = std::max(t_max, rr.end_time_s);
  Plot p;
  p.x1 = t_max;
  p.y1 = std::max<double>(1, static_cast<double>(r.agents));
  o << "<h2>Evacuation curve</h2><svg width='" << p.w << "' height='" << p.h << "'>" << axes(p, "time (s)", "evacuated");
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const std::vector<double> t = sorted_times(runs[k]);
    o << "<polyline fill='none' stroke='" << colours[k % 8] << "' points='" << p.px(0) << "," << p.py(0);
    for (std::size_t i = 0; i < t.size(); ++i) o << " " << p.px(t[i]) << "," << p.py(static_cast<double>(i + 1));
    o << " " << p.px(runs[k].end_time_s) << "," << p.py(static_cast<double>(t.size())) << "'/>";
  }
  o << "</svg>";

  // Flow per exit (first run), persons/s over 5 s bins.
  const double bin = 5;
  const auto nbins = static_cast<std::size_t>(std::ceil(t_max / bin)) + 1;
  std::vector<std::vector<double>> flow(v.exits.size(), std::vector<double>(nbins, 0));
  double fmax = 0.1;
  for (std::size_t i = 0; i < r.agents; ++i) {
    if (r.exit_used[i] < 0) continue;
    auto& f = flow[static_cast<std::size_t>(r.exit_used[i])][static_cast<std::size_t>(r.evacuation_time_s[i] / bin)];
    f += 1 / bin;
    fmax = std::max(fmax, f);
  }
  Plot q;
  q.x1 = t_max;
  q.y1 = fmax;
  o << "<h2>Flow per exit</h2><svg width='" << q.w << "' height='" << q.h << "'>" << axes(q, "time (s)", "persons/s");
  for (std::size_t e = 0; e < v.exits.size(); ++e) {
    o << "<polyline fill='none' stroke='" << colours[e % 8] << "' points='";
    for (std::size_t b = 0; b < nbins; ++b) o << q.px((static_cast<double>(b) + 0.5) * bin) << "," << q.py(flow[e][b]) << " ";
    o << "'/><text x='" << q.w - q.pad + 2 << "' y='" << q.pad + 12 * static_cast<double>(e) << "' fill='" << colours[e % 8]
      << "'>" << html_escape(v.exits[e].id) << "</text>";
  }
  o << "</svg>";

  // Peak density per zone (first run), on the plan of each level.
  std::vector<double> peak(v.zones.size(), 0);
  for (const auto& row : r.zone_persons)
    for (std::size_t z = 0; z < v.zones.size(); ++z)
      if (v.zones[z].area_m2 > 0) peak[z] = std::max(peak[z], row[z] / v.zones[z].area_m2);
  for (const auto& [index, level] : v.levels) {
    const geom::Box b = level.bounds.empty() ? geom::bounds(level.walkable) : level.bounds;
    if (b.empty()) continue;
    const double scale = 600 / std::max(b.width(), b.height());
    auto X = [&](double x) { return 10 + (x - b.min.x) * scale; };
    auto Y = [&](double y) { return 10 + (b.max.y - y) * scale; };
    auto path = [&](const geom::Ring& ring) {
      std::ostringstream s;
      for (std::size_t i = 0; i < ring.size(); ++i) s << (i ? "L" : "M") << X(ring[i].x) << "," << Y(ring[i].y);
      return s.str() + "Z";
    };
    o << "<h2>Peak density, level " << index << "</h2><svg width='" << 20 + b.width() * scale << "' height='"
      << 20 + b.height() * scale << "'>";
    for (const geom::Polygon& poly : level.walkable) {
      std::string d = path(poly.outer);
      for (const geom::Ring& h : poly.holes) d += path(h);
      o << "<path d='" << d << "' fill='#fff' stroke='#333' fill-rule='evenodd'/>";
    }
    for (std::size_t z = 0; z < v.zones.size(); ++z) {
      if (v.zones[z].level != index) continue;
      const double k = std::min(1.0, peak[z] / 4.0);  // red at 4 persons/m²
      const int g = static_cast<int>(std::lround(255 * (1 - k)));
      o << "<path d='" << path(v.zones[z].polygon.outer) << "' fill='rgb(255," << g << "," << g
        << ")' fill-opacity='0.7' stroke='#999'><title>" << html_escape(v.zones[z].id) << ": " << fmt(round_to(peak[z], 0.01))
        << " persons/m²</title></path>";
    }
    for (const venue::Opening& e : v.exits) {
      if (e.level != index) continue;
      o << "<line x1='" << X(e.line.a.x) << "' y1='" << Y(e.line.a.y) << "' x2='" << X(e.line.b.x) << "' y2='"
        << Y(e.line.b.y) << "' stroke='" << (sc.closed.count(e.id) ? "#888" : "#0a0") << "' stroke-width='4'/>";
    }
    o << "</svg>";
  }
  o << "<h2>Zones</h2><table><tr><th>zone</th><th>level</th><th>area m²</th><th>peak persons/m²</th></tr>";
  for (std::size_t z = 0; z < v.zones.size(); ++z)
    o << "<tr><td>" << html_escape(v.zones[z].id) << "</td><td>" << v.zones[z].level << "</td><td>"
      << fmt(round_to(v.zones[z].area_m2, 0.1)) << "</td><td>" << fmt(round_to(peak[z], 0.01)) << "</td></tr>";
  o << "</table>";
  if (playback) o << playback_html(v, sc.closed, *playback);
  o << "</body></html>\n";
  return o.str();
}

}  // namespace

}  // namespace vigil::sim
