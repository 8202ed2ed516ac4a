// SPDX-License-Identifier: Apache-2.0
// Results: summary.json fields, CSV series, Monte Carlo distributions, trajectories.sqlite.
#include "sim/results.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sim/run.hpp"
#include "test_venues.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)
using ::testing::HasSubstr;

class Results : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil_results_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write_scenario(const json& doc) {
    std::ofstream(dir_ / "scenario.json") << doc.dump();
    return dir_ / "scenario.json";
  }
  static std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

  std::filesystem::path dir_;
};

json two_exit_scenario() {
  json v = room_venue();
  v["features"].push_back(exit_line("E2", 0, 4, 0, 6));
  json doc = scenario(v, json::array({{{"zone", "floor"}, {"count", 40}}}));
  doc["measure"] = {{"lines", json::array({{{"id", "M1"}, {"level", 0}, {"line", {{15, 0}, {15, 10}}}}})}};
  return doc;
}

TEST_F(Results, SummaryHasTheFieldsOfTheSpec) {
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(two_exit_scenario()), opt);
  ASSERT_TRUE(s) << s.error().front().to_string();
  const auto& j = s->json;
  for (const char* key : {"agents", "evacuated", "not_evacuated", "evacuation_time_s", "time_percentiles_s",
                          "egress_limit_s", "within_limit", "exits", "lines", "peak_density_p_m2", "steps",
                          "wall_s", "agent_steps_per_s", "threads", "seed"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["agents"], 40);
  EXPECT_EQ(j["evacuated"], 40);
  EXPECT_EQ(j["not_evacuated"], 0);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["seed"], 1);
  EXPECT_EQ(j["egress_limit_s"], 480);
  EXPECT_TRUE(j["within_limit"].get<bool>());
  for (const char* p : {"50", "90", "95", "100"}) EXPECT_TRUE(j["time_percentiles_s"][p].is_number()) << p;
  EXPECT_EQ(j["time_percentiles_s"]["100"], j["evacuation_time_s"]);
  const int e1 = j["exits"]["E1"]["count"];
  const int e2 = j["exits"]["E2"]["count"];
  EXPECT_EQ(e1 + e2, 40);
  EXPECT_GT(e2, 0);  // the zone is the west half: most leave by the west exit
  for (const char* k : {"count", "first_s", "last_s", "mean_flow_p_s"}) EXPECT_TRUE(j["exits"]["E2"].contains(k)) << k;
  EXPECT_EQ(j["lines"]["M1"]["count"], e1);
  EXPECT_TRUE(j["lines"]["M1"].contains("specific_flow_p_m_s"));
  EXPECT_EQ(j["peak_density_p_m2"]["zone"], "floor");
  EXPECT_NEAR(j["peak_density_p_m2"]["value"].get<double>(), 0.4, 1e-9);  // 40 people on 100 m² at t = 0
  EXPECT_FALSE(j["max_time_reached"].get<bool>());

  // The files.
  const auto out = dir_ / "out";
  std::ifstream in(out / "summary.json");
  EXPECT_EQ(nlohmann::ordered_json::parse(in), j);
  EXPECT_EQ(j.begin().key(), "agents");  // the spec's order
  const auto curve = lines_of(out / "evacuation_curve.csv");
  ASSERT_GE(curve.size(), 3u);
  EXPECT_EQ(curve[0], "time_s,evacuated");
  EXPECT_EQ(curve[1], "0,0");
  EXPECT_THAT(curve.back(), HasSubstr(",40"));
  const auto exits = lines_of(out / "exits.csv");
  EXPECT_EQ(exits[0], "time_s,exit_id,count");
  EXPECT_EQ(exits[1], "0,E1,0");
  EXPECT_EQ(exits[2], "0,E2,0");
  const auto density = lines_of(out / "density.csv");
  EXPECT_EQ(density[0], "time_s,zone_id,persons,density_p_m2");
  EXPECT_EQ(density[1], "0,floor,40,0.4");
  EXPECT_FALSE(std::filesystem::exists(out / "trajectories.sqlite"));
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t k = text.find(what); k != std::string::npos;
       k = text.find(what, k + what.size()))
    ++n;
  return n;
}

TEST_F(Results, ReportLeadsWithTheVerdictAndIsSelfContainedAndSmall) {
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(two_exit_scenario()), opt);
  ASSERT_TRUE(s) << s.error().front().to_string();
  const std::string report = read_text(dir_ / "out" / "report.html");
  // The verdict card comes first, before any chart.
  const auto verdict = report.find("class='verdict ok'");
  ASSERT_NE(verdict, std::string::npos);
  EXPECT_THAT(report, HasSubstr("WITHIN LIMIT"));
  EXPECT_THAT(report, HasSubstr("Everyone is out in"));
  EXPECT_THAT(report, HasSubstr("within the egress limit of 480"));
  EXPECT_LT(verdict, report.find("<svg"));
  // Key figures.
  for (const char* label :
       {"50% out by", "90% out by", "95% out by", "everyone out by", "peak density"})
    EXPECT_THAT(report, HasSubstr(label)) << label;
  // The evacuation curve with the egress limit, one flow chart per exit and the exit table.
  EXPECT_EQ(count_of(report, "<svg class='chart'"), 1u);
  EXPECT_THAT(report, HasSubstr("class='limit'"));
  EXPECT_THAT(report, HasSubstr("egress limit 480 s"));
  EXPECT_EQ(count_of(report, "<svg class='small'"), 2u);
  EXPECT_THAT(report, HasSubstr("aria-label='flow through exit E1'"));
  EXPECT_THAT(report, HasSubstr("aria-label='flow through exit E2'"));
  EXPECT_THAT(report, HasSubstr("per metre width"));
  // The density map: the venue plan with the zone recoloured and a legend.
  EXPECT_THAT(
      report,
      HasSubstr("<g class=\"zone\" data-id=\"floor\"><title>zone floor: peak 0.4 persons/m"));
  EXPECT_THAT(report, HasSubstr("class='legend'"));
  // The playback: canvas, controls, compact data and what was subsampled.
  EXPECT_THAT(report, HasSubstr("<canvas id='pb-canvas'"));
  EXPECT_THAT(report, HasSubstr("id='pb-play'"));
  EXPECT_THAT(report, HasSubstr("type='range'"));
  EXPECT_THAT(report, HasSubstr("\"tracks\":[[0,\"~"));
  EXPECT_THAT(report, HasSubstr("every person shown"));
  // The raw summary only in the collapsed details at the bottom.
  const auto details = report.find("<details>");
  ASSERT_NE(details, std::string::npos);
  EXPECT_LT(details, report.find("<pre>"));
  EXPECT_GT(details, report.find("pb-canvas"));
  // Self-contained: no URL at all.
  EXPECT_THAT(report, ::testing::Not(HasSubstr("http://")));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("https://")));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("src=")));
  // Small: 40 people in a 20 m x 10 m room.
  EXPECT_LT(report.size(), 150u * 1024) << report.size();
}

TEST_F(Results, ReportSaysWhoWasNotEvacuatedAndWhy) {
  json doc = two_exit_scenario();
  doc["max_time_s"] = 3;
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(doc), opt);
  ASSERT_TRUE(s);
  const std::string report = read_text(dir_ / "out" / "report.html");
  EXPECT_THAT(report, HasSubstr("class='verdict bad'"));
  EXPECT_THAT(report, HasSubstr("NOT WITHIN LIMIT"));
  EXPECT_THAT(report, HasSubstr("Not everyone got out"));
  EXPECT_THAT(report, HasSubstr("not evacuated: still inside when max_time_s was reached"));
  EXPECT_THAT(report, HasSubstr("stopped at max_time_s = 3 s"));
}

TEST_F(Results, MonteCarloReportShowsEveryRun) {
  json doc = two_exit_scenario();
  doc["runs"] = 3;
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(doc), opt);
  ASSERT_TRUE(s);
  const std::string report = read_text(dir_ / "out" / "report.html");
  EXPECT_THAT(report, HasSubstr("All 3 runs are within the egress limit"));
  // Each curve chart (the full one, and the zoomed one when the limit is far off) draws run 1
  // and the 2 others.
  const std::size_t charts = count_of(report, "<polyline class='run'");
  EXPECT_GE(charts, 1u);
  EXPECT_EQ(count_of(report, "<polyline class='mc'"), 2 * charts);
  EXPECT_THAT(report, HasSubstr("p5\u2013p95"));
}

TEST(PlaybackRecorderTest, KeepsAtMostTwoFramesPerSecondAndTwoThousandPeople) {
  PlaybackRecorder pb(0.05, 10000000);
  std::vector<FrameAgent> agents(5000);
  for (std::size_t i = 0; i < agents.size(); ++i) {
    agents[i].id = static_cast<std::int64_t>(i);
    agents[i].x = 1.234 + static_cast<double>(i);
    agents[i].y = -2.26;
    agents[i].level = 1;
  }
  for (int f = 0; f < 100; ++f) pb.frame(f, agents);  // 5 s
  EXPECT_DOUBLE_EQ(pb.frame_dt_s(), 0.5);
  ASSERT_EQ(pb.frames().size(), 10u);
  EXPECT_EQ(pb.agent_stride(), 3u);
  EXPECT_EQ(pb.agents_total(), 5000u);
  const std::vector<int>& f = pb.frames().front();
  ASSERT_EQ(f.size(), 4u * 1667);
  EXPECT_EQ(f[4], 3);    // id
  EXPECT_EQ(f[5], 42);   // x = 4.234 m in decimetres
  EXPECT_EQ(f[6], -23);  // y
  EXPECT_EQ(f[7], 1);    // level
  EXPECT_FALSE(pb.truncated());

  PlaybackRecorder small(0.5, 100);
  small.frame(0, agents);  // 1667 kept positions > 100
  EXPECT_TRUE(small.truncated());
  EXPECT_TRUE(small.frames().empty());
}

TEST_F(Results, MonteCarloRunsReportDistributions) {
  json doc = two_exit_scenario();
  doc["runs"] = 3;
  doc["seed"] = 10;
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(doc), opt);
  ASSERT_TRUE(s) << s.error().front().to_string();
  const auto& j = s->json;
  EXPECT_EQ(j["runs"], 3);
  EXPECT_EQ(j["seeds"], nlohmann::ordered_json({10, 11, 12}));
  for (const char* k : {"mean", "sd", "p5", "p50", "p95"})
    EXPECT_TRUE(j["evacuation_time_s"].contains(k)) << k;
  EXPECT_LE(j["evacuation_time_s"]["p5"].get<double>(),
            j["evacuation_time_s"]["p95"].get<double>());
  EXPECT_TRUE(j["exits"]["E1"]["count"].contains("mean"));
  ASSERT_EQ(j["per_run"].size(), 3u);
  EXPECT_EQ(j["per_run"][1]["seed"], 11);
  const auto curve = lines_of(dir_ / "out" / "evacuation_curve.csv");
  EXPECT_EQ(curve[0], "run,time_s,evacuated");
  EXPECT_EQ(curve[1], "1,0,0");
  EXPECT_THAT(curve.back(), ::testing::StartsWith("3,"));
}

TEST_F(Results, TrajectoriesAreInTheJuPedSimFormat) {
  json doc = two_exit_scenario();
  RunOptions opt;
  opt.out_dir = dir_ / "out";
  opt.trajectories = true;
  opt.fps = 5;
  opt.threads = 1;
  auto s = run_scenario_file(write_scenario(doc), opt);
  ASSERT_TRUE(s) << s.error().front().to_string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "out" / "trajectories.sqlite").string().c_str(), &db), SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(scalar("SELECT value FROM metadata WHERE key = 'version'"), "2");
  EXPECT_EQ(scalar("SELECT value FROM metadata WHERE key = 'fps'"), "5");
  EXPECT_EQ(scalar("SELECT count(*) FROM trajectory_data WHERE frame = 0"), "40");
  EXPECT_EQ(scalar("SELECT count(DISTINCT id) FROM trajectory_data"), "40");
  const std::string wkt = scalar("SELECT wkt FROM geometry");
  EXPECT_THAT(wkt, ::testing::StartsWith("POLYGON (("));
  EXPECT_THAT(wkt, HasSubstr("20 10"));
  EXPECT_EQ(
      scalar("SELECT count(*) FROM frame_data WHERE geometry_hash = (SELECT hash FROM geometry)"),
      scalar("SELECT count(DISTINCT frame) FROM trajectory_data"));
  EXPECT_EQ(scalar("SELECT count(*) FROM trajectory_data WHERE ori_x IS NULL"), "0");
  sqlite3_close(db);
}

TEST_F(Results, ScenarioErrorsComeBackFromRunScenarioFile) {
  json doc = two_exit_scenario();
  doc["time_step_s"] = 2;
  auto s = run_scenario_file(write_scenario(doc), {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().front().to_string(), "time_step_s: must be in (0, 1], got 2");
}

TEST_F(Results, NotesSayWhenTheRunHitMaxTime) {
  json doc = two_exit_scenario();
  doc["max_time_s"] = 3;
  auto s = run_scenario_file(write_scenario(doc), {});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->max_time_reached);
  EXPECT_TRUE(s->json["max_time_reached"].get<bool>());
  EXPECT_TRUE(s->json["evacuation_time_s"].is_null());
  EXPECT_FALSE(s->json["within_limit"].get<bool>());
  ASSERT_FALSE(s->notes.empty());
  EXPECT_THAT(s->notes[0], HasSubstr("max_time_s 3 s reached"));
}

}  // namespace
}  // namespace vigil::sim
