// SPDX-License-Identifier: Apache-2.0
// Runs every verification case (scenarios.cpp, the same definitions the tests assert) and writes
// OUT/verification.md with one row per case and the plots next to it (OUT/verification/*.svg).
//   build/release/tests/verification_report [--out docs] [--only "RiMEA 4"]
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scenarios.hpp"

namespace {

using vigil::sim::verification::Outcome;
using vigil::sim::verification::Series;

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string num(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A "nice" step for about `ticks` ticks over [0, max].
double tick_step(double max, int ticks) {
  const double raw = max / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// Decimals that show every multiple of `step` exactly (0.25 -> 2, 0.5 -> 1, 5 -> 0).
int decimals(double step) {
  for (int d = 0; d < 3; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::abs(scaled - std::round(scaled)) < 1e-9) return d;
  }
  return 3;
}

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

// One panel at (ox, oy), w x h: axes from 0, each series as a line, or as dots when `dots[i]`.
void panel(std::ostringstream& svg, double ox, double oy, double w, double h, const std::string& title,
           const std::string& xlabel, const std::string& ylabel, const std::vector<Series>& series,
           const std::vector<bool>& dots) {
  double xmax = 0;
  double ymax = 0;
  for (const Series& s : series) {
    for (double x : s.x) xmax = std::max(xmax, x);
    for (double y : s.y) ymax = std::max(ymax, y);
  }
  const double xs = tick_step(xmax > 0 ? xmax : 1, 6);
  const double ys = tick_step(ymax > 0 ? ymax : 1, 5);
  xmax = std::ceil((xmax > 0 ? xmax : 1) / xs - 1e-9) * xs;
  ymax = std::ceil((ymax > 0 ? ymax : 1) / ys - 1e-9) * ys;
  const double l = ox + 55;
  const double r = ox + w - 10;
  const double t = oy + 30;
  const double b = oy + h - 45;
  auto px = [&](double x) { return l + (r - l) * x / xmax; };
  auto py = [&](double y) { return b - (b - t) * y / ymax; };
  svg << "<text x=\"" << (l + r) / 2 << "\" y=\"" << oy + 18 << "\" text-anchor=\"middle\" font-weight=\"bold\">"
      << xml(title) << "</text>\n";
  for (double x = 0; x <= xmax + 1e-9; x += xs) {
    svg << "<line x1=\"" << px(x) << "\" y1=\"" << t << "\" x2=\"" << px(x) << "\" y2=\"" << b
        << "\" stroke=\"#ddd\"/>\n<text x=\"" << px(x) << "\" y=\"" << b + 16 << "\" text-anchor=\"middle\">"
        << num(x, decimals(xs)) << "</text>\n";
  }
  for (double y = 0; y <= ymax + 1e-9; y += ys) {
    svg << "<line x1=\"" << l << "\" y1=\"" << py(y) << "\" x2=\"" << r << "\" y2=\"" << py(y)
        << "\" stroke=\"#ddd\"/>\n<text x=\"" << l - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">"
        << num(y, decimals(ys)) << "</text>\n";
  }
  svg << "<rect x=\"" << l << "\" y=\"" << t << "\" width=\"" << r - l << "\" height=\"" << b - t
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg << "<text x=\"" << (l + r) / 2 << "\" y=\"" << b + 34 << "\" text-anchor=\"middle\">" << xml(xlabel) << "</text>\n";
  svg << "<text transform=\"translate(" << ox + 14 << "," << (t + b) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << xml(ylabel) << "</text>\n";
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const char* colour = kColours[k % std::size(kColours)];
    if (k < dots.size() && dots[k]) {
      for (std::size_t i = 0; i < s.x.size(); ++i)
        svg << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"4\" fill=\"" << colour << "\"/>\n";
    } else {
      svg << "<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"" << colour << "\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i) svg << num(px(s.x[i]), 1) << "," << num(py(s.y[i]), 1) << " ";
      svg << "\"/>\n";
    }
    std::size_t longest = 0;
    for (const Series& other : series) longest = std::max(longest, other.label.size());
    const double lx = r - 25 - 7 * static_cast<double>(longest);
    const double ly = t + 14 + 16 * static_cast<double>(k);
    svg << "<rect x=\"" << lx << "\" y=\"" << ly - 9 << "\" width=\"10\" height=\"10\" fill=\"" << colour
        << "\"/><text x=\"" << lx + 15 << "\" y=\"" << ly << "\">" << xml(s.label) << "</text>\n";
  }
}

std::string svg_open(double w, double h) {
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h << "\" viewBox=\"0 0 " << w
    << " " << h << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  return s.str();
}

bool write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out = "docs";
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: verification_report [--out DIR] [--only CASE]\n");
      return 2;
    }
  }
  const std::filesystem::path plots = out / "verification";
  std::error_code ec;
  std::filesystem::create_directories(plots, ec);
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", plots.string().c_str(), ec.message().c_str());
    return 1;
  }

  struct Row {
    Outcome o;
    double wall_s = 0;
    std::string error;
  };
  std::vector<Row> rows;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& c : vigil::sim::verification::all_cases()) {
    if (!only.empty() && only != c.name) continue;
    std::fprintf(stderr, "%s ...", c.name);
    const auto t0 = std::chrono::steady_clock::now();
    Row row;
    try {
      row.o = c.run();
    } catch (const std::exception& e) {
      row.o.id = c.name;
      row.error = e.what();
    }
    row.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, " %s (%.1f s)\n", row.error.empty() ? (row.o.pass ? "pass" : "FAIL") : "error", row.wall_s);
    rows.push_back(std::move(row));
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::ostringstream md;
  int passed = 0;
  for (const Row& r : rows) passed += r.o.pass && r.error.empty() ? 1 : 0;
  md << "<!-- Generated by tests/verification/report_main.cpp; do not edit. Regenerate (docs/testing.md):\n"
        "     build/release/tests/verification_report --out docs -->\n"
        "# Verification results\n\n"
        "The RiMEA guideline tests (version 3.0 numbering), the NIST TN 1822 cases and the engine checks, run on\n"
        "the current engine (`cfsm` with its defaults unless stated; release build). Each case is defined once in\n"
        "`tests/verification/scenarios.cpp`; `verification_tests` (ctest label `slow`) asserts the same verdicts\n"
        "that this page shows. Reference figures and criteria: the\n"
        "RiMEA guideline and NIST TN 1822 as summarised in [simulation.md](simulation.md#verification).\n\n";
  md << "**" << passed << " of " << rows.size() << " cases pass.** The whole suite took " << num(total_s, 0)
     << " s of wall time to generate.\n\n";
  md << "| test | set-up | criterion | measured | result |\n|---|---|---|---|---|\n";
  for (const Row& r : rows) {
    const std::string measured = r.error.empty() ? r.o.measured : "error: " + r.error;
    md << "| " << cell(r.o.id) << " | " << cell(r.o.setup) << " | " << cell(r.o.criterion) << " | " << cell(measured)
       << " | " << (r.error.empty() && r.o.pass ? "pass" : "**FAIL**") << " |\n";
  }

  // The fundamental diagram.
  for (const Row& r : rows) {
    if (r.o.id != "RiMEA 4" || r.o.curves.size() < 4) continue;
    std::ostringstream svg;
    svg << svg_open(980, 380);
    auto relabel = [](Series s, const char* label) {
      s.label = label;
      return s;
    };
    panel(svg, 0, 0, 490, 380, "Speed against density", "density (persons/m²)", "mean speed (m/s)",
          {relabel(r.o.curves[0], "measured (cfsm)"), relabel(r.o.curves[1], "Weidmann (1993)")}, {true, false});
    panel(svg, 490, 0, 490, 380, "Specific flow against density", "density (persons/m²)", "specific flow (persons/(m s))",
          {relabel(r.o.curves[2], "measured (cfsm)"), relabel(r.o.curves[3], "Weidmann (1993)")}, {true, false});
    svg << "</svg>\n";
    write_file(plots / "fundamental-diagram.svg", svg.str());
    md << "\n## RiMEA 4 / NIST 2.5: the fundamental diagram\n\n"
       << "![Measured speed and flow against Weidmann's diagram](verification/fundamental-diagram.svg)\n\n"
       << "| density (persons/m²) | mean speed (m/s) | Weidmann (m/s) | specific flow at the line (persons/(m s)) | "
          "Weidmann ρ·v |\n|---|---|---|---|---|\n";
    const Series& ms = r.o.curves[0];
    const Series& mf = r.o.curves[2];
    for (std::size_t i = 0; i < ms.x.size(); ++i) {
      const double w = vigil::sim::verification::weidmann_speed(ms.x[i]);
      md << "| " << num(ms.x[i], 2) << " | " << num(ms.y[i], 3) << " | " << num(w, 3) << " | " << num(mf.y[i], 3)
         << " | " << num(ms.x[i] * w, 3) << " |\n";
    }
  }

  // Evacuation curves.
  bool header = false;
  for (const Row& r : rows) {
    if (r.o.curves.empty() || r.o.id == "RiMEA 4") continue;
    if (!header) {
      md << "\n## Evacuation curves\n\nPeople out (or arrived) against time, per case.\n";
      header = true;
    }
    const std::string name = "evacuation-" + slug(r.o.id) + ".svg";
    std::ostringstream svg;
    svg << svg_open(640, 360);
    panel(svg, 0, 0, 640, 360, r.o.id, "time (s)", "people out", r.o.curves, {});
    svg << "</svg>\n";
    write_file(plots / name, svg.str());
    md << "\n### " << r.o.id << "\n\n![" << r.o.id << " evacuation curves](verification/" << name << ")\n";
  }

  md << "\n## Notes\n\n"
        "- **RiMEA 4 / NIST 2.5.** A periodic corridor (people leaving the east end re-enter at the west end and\n"
        "  see the people across the seam) stepped by `tests/verification/harness.cpp`, which drives the engine's\n"
        "  own parts (the `cfsm` model, the neighbour grid, `Space::constrain_move`); the engine's step loop has\n"
        "  no periodic option. Everyone has Weidmann's free speed 1.34 m/s (the v₀ of his curve), r = 0.2 m, and\n"
        "  starts on a staggered lattice. The tolerance is the one the CFSM defaults meet; the model's own\n"
        "  diagram follows from v = min(v₀, s / T) with the time gap T = 1 s and 2r = 0.4 m of body.\n"
        "- **RiMEA 8.** Documented results of the example school (examples/school-evacuation.json): the row gives\n"
        "  the evacuation time, the people per exit, the busiest exit (highest mean flow per metre of width) and\n"
        "  the densest zone; the curve is above.\n"
        "- **RiMEA 10.** Exits are assigned per room with the population entry's `exit` key (an extension of\n"
        "  the specification's scenario format, docs/simulation.md); room 4 of each side is sent to its farther\n"
        "  exit, against what `nearest` routing would choose.\n"
        "- **dt / 2.** Seeds per case in brackets; ± is the standard error of the change (from the per-seed\n"
        "  differences). NIST 2.8, the counterflow, was over 3 % (+3.8 ± 1.8 %) until the one who waits in a\n"
        "  head-on meeting made room instead of pressing on (docs/simulation.md, \"Time step\").\n"
        "- **RiMEA 14.** Vigil's routing follows the walking-distance field, in which a stair counts with its\n"
        "  length along the slope, not with its lower speed. So a person takes a stair whenever the stair route\n"
        "  is shorter to walk, even where the level route would be quicker (compare the walking times in the\n"
        "  row with the stair at 0.6 × v₀ up).\n"
        "- **NIST 2.8.** The scenario format cannot send two groups to different exits through the same\n"
        "  corridor, so the counterflow is run by the same harness as RiMEA 4: each group follows the walking\n"
        "  distance field to its own exit (the field of that exit alone), with the engine's model and walls.\n"
        "  `cfsm` passes it with its `give_way` rule (people bear right for someone coming the other way);\n"
        "  as published (`give_way` = 0) 69-76 of 200 arrive (simulation.md#verification).\n"
        "- **RiMEA 15.** \"Between the straight cases\": the steady flow round the corner is bounded by the same\n"
        "  corridor straight (a corner cannot add capacity; 5 % allowed for noise) and by a straight corridor of\n"
        "  half the width (the corner may not lose more than half of it).\n";
  if (!write_file(out / "verification.md", md.str())) {
    std::fprintf(stderr, "%s: could not be written\n", (out / "verification.md").string().c_str());
    return 1;
  }
  std::fprintf(stderr, "%d of %zu cases pass; wrote %s (%.0f s)\n", passed, rows.size(),
               (out / "verification.md").string().c_str(), total_s);
  return passed == static_cast<int>(rows.size()) ? 0 : 1;
}
