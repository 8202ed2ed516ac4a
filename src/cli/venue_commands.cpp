// SPDX-License-Identifier: Apache-2.0
// `vigil venue validate | info | render`.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "venue/load.hpp"
#include "venue/nav_field.hpp"
#include "venue/render_svg.hpp"
#include "venue/summary.hpp"

namespace vigil::cli {
namespace {

using venue::LoadResult;

void print_issues(const std::string& file, const LoadResult& r) {
  for (const venue::Issue& i : r.issues) std::cerr << file << ": " << i.to_string() << "\n";
}

// Loads a venue for a command that needs one; prints the problems. Empty on errors.
std::optional<venue::Venue> load_or_report(const std::string& file) {
  LoadResult r = venue::load_venue_file(file);
  print_issues(file, r);
  if (!r.ok()) return std::nullopt;
  return std::move(r.venue);
}

int validate(const std::vector<std::string>& files) {
  int status = 0;
  for (const std::string& file : files) {
    LoadResult r = venue::load_venue_file(file);
    print_issues(file, r);
    if (r.ok()) {
      std::cout << fmt::format("{}: OK ({} warning{})\n", file, r.warning_count(),
                               r.warning_count() == 1 ? "" : "s");
    } else {
      std::cout << fmt::format("{}: {} error{}, {} warning{}\n", file, r.error_count(),
                               r.error_count() == 1 ? "" : "s", r.warning_count(),
                               r.warning_count() == 1 ? "" : "s");
      status = 1;
    }
  }
  return status;
}

int info(const std::string& file, bool as_json) {
  auto v = load_or_report(file);
  if (!v) return 1;
  const nlohmann::json s = venue::summary_json(*v);
  if (as_json) {
    std::cout << s.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{} ({}), use {}, egress limit {:g} s\n", v->name, v->id, v->use,
                           v->egress_limit_s);
  if (v->origin) std::cout << fmt::format("origin: {:.5f}, {:.5f}\n", v->origin->lat, v->origin->lon);
  std::cout << "levels:\n";
  for (const auto& [index, lv] : v->levels)
    if (!lv.areas.empty())
      std::cout << fmt::format("  {:>3}  walkable {:>10.1f} m²\n", index, lv.walkable_area_m2);
  std::cout << fmt::format("zones ({}, total capacity {:g}):\n", v->zones.size(),
                           s["capacity"].get<double>());
  for (const venue::Zone& z : v->zones)
    std::cout << fmt::format("  {:<20} level {:>2}  {:>9.1f} m²  capacity {:>7g}{}  {}\n", z.id,
                             z.level, z.area_m2, z.capacity, z.capacity_given ? "" : "*",
                             venue::to_string(z.use));
  std::cout << fmt::format("exits ({}, total width {:.2f} m):\n", v->exits.size(), [&] {
    double w = 0;
    for (const auto& e : v->exits) w += e.width_m;
    return w;
  }());
  for (const venue::Opening& e : v->exits)
    std::cout << fmt::format("  {:<20} level {:>2}  width {:.2f} m\n", e.id, e.level, e.width_m);
  if (!v->doors.empty()) std::cout << fmt::format("doors: {}\n", v->doors.size());
  for (const venue::Stair& st : v->stairs)
    std::cout << fmt::format("stair {:<14} level {} -> {}  length {:.1f} m  width {:.2f} m\n", st.id,
                             st.from_level, st.to_level, st.length_m,
                             std::min(st.bottom.length(), st.top.length()));
  std::cout << fmt::format("sensors: {}\n", v->sensors.size());
  for (const venue::Sensor& se : v->sensors)
    std::cout << fmt::format("  {:<20} {:<13} {}\n", se.id, venue::to_string(se.type),
                             se.type == venue::SensorType::line_counter
                                 ? fmt::format("{} -> {}", se.from, se.into)
                                 : se.zone);
  std::cout << "(* capacity derived from area × max_density)\n";
  return 0;
}

int render(const std::string& file, const std::string& out, int level, bool field) {
  auto v = load_or_report(file);
  if (!v) return 1;
  const venue::Level* lv = v->find_level(level);
  if (!lv || lv->areas.empty()) {
    std::cerr << fmt::format("{}: level {} has no area (levels:", file, level);
    for (const auto& [index, l] : v->levels)
      if (!l.areas.empty()) std::cerr << " " << index;
    std::cerr << ")\n";
    return 1;
  }
  std::optional<venue::NavField> nav;
  if (field) nav = venue::NavField::compute(*v);
  venue::RenderOptions opt;
  opt.level = level;
  opt.field = nav ? &*nav : nullptr;
  const std::string svg = venue::render_svg(*v, opt);
  std::ofstream os(out, std::ios::binary);
  if (!os || !(os << svg) || !os.flush()) {
    std::cerr << fmt::format("{}: cannot write the file\n", out);
    return 1;
  }
  std::cout << fmt::format("wrote {} (level {})\n", out, level);
  return 0;
}

}  // namespace

void register_venue_commands(CLI::App& app, int& status) {
  CLI::App* venue = app.add_subcommand("venue", "Check, describe and draw venue files");
  venue->require_subcommand(1);

  auto* val = venue->add_subcommand("validate", "Check venue files; print every error and warning");
  static std::vector<std::string> files;
  val->add_option("FILE", files, "Venue files (GeoJSON)")->required();
  val->callback([&status] { status = validate(files); });

  auto* inf = venue->add_subcommand("info", "Levels, areas, zones, exits, stairs and sensors");
  static std::string info_file;
  static bool info_json = false;
  inf->add_option("FILE", info_file, "Venue file")->required();
  inf->add_flag("--json", info_json, "Print JSON");
  inf->callback([&status] { status = info(info_file, info_json); });

  auto* ren = venue->add_subcommand("render", "Draw the plan of one level as SVG");
  static std::string ren_file, ren_out;
  static int ren_level = 0;
  static bool ren_field = false;
  ren->add_option("FILE", ren_file, "Venue file")->required();
  ren->add_option("--out", ren_out, "Output SVG file")->required();
  ren->add_option("--level", ren_level, "Level to draw")->capture_default_str();
  ren->add_flag("--field", ren_field, "Shade the walking distance to the nearest exit");
  ren->callback([&status] { status = render(ren_file, ren_out, ren_level, ren_field); });
}

}  // namespace vigil::cli
