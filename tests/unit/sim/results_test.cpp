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
  std::ifstream report_in(out / "report.html");
  const std::string report((std::istreambuf_iterator<char>(report_in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(report, HasSubstr("Evacuation curve"));
  EXPECT_THAT(report, HasSubstr("Flow per exit"));
  EXPECT_THAT(report, HasSubstr("Peak density"));
  EXPECT_THAT(report, HasSubstr("<canvas"));  // the playback
  EXPECT_THAT(report, ::testing::Not(HasSubstr("src=\"http")));  // self-contained
  EXPECT_FALSE(std::filesystem::exists(out / "trajectories.sqlite"));
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
  for (const char* k : {"mean", "sd", "p5", "p50", "p95"}) EXPECT_TRUE(j["evacuation_time_s"].contains(k)) << k;
  EXPECT_LE(j["evacuation_time_s"]["p5"].get<double>(), j["evacuation_time_s"]["p95"].get<double>());
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
  EXPECT_EQ(scalar("SELECT count(*) FROM frame_data WHERE geometry_hash = (SELECT hash FROM geometry)"),
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
