// SPDX-License-Identifier: Apache-2.0
// Load + validate + derive a venue (default: the stadium example) and print the time and the
// memory it takes. Target (issue 3): under 1 s and under 200 MB for the stadium, release build.
//   build/release/bench/bench_venue [VENUE.geojson] [--repeat N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "venue/load.hpp"
#include "venue/nav_field.hpp"

namespace {
long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(VIGIL_SOURCE_DIR) + "/examples/stadium.geojson";
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else
      path = argv[i];
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read\n", path.c_str());
    return 1;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const long rss_before = max_rss_kib();

  std::vector<double> load_ms, field_ms;
  std::size_t features = 0, cells = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    vigil::venue::LoadResult res = vigil::venue::load_venue(text);
    const auto t1 = std::chrono::steady_clock::now();
    if (!res.ok()) {
      std::fprintf(stderr, "%s: does not load (%zu errors)\n", path.c_str(), res.error_count());
      return 1;
    }
    const vigil::venue::NavField field = vigil::venue::NavField::compute(*res.venue);
    const auto t2 = std::chrono::steady_clock::now();
    load_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    field_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    const auto& v = *res.venue;
    features = v.zones.size() + v.exits.size() + v.doors.size() + v.stairs.size() + v.sensors.size();
    cells = 0;
    for (const auto& layer : field.layers()) cells += layer.grid.size();
  }
  std::sort(load_ms.begin(), load_ms.end());
  std::sort(field_ms.begin(), field_ms.end());
  const long rss_after = max_rss_kib();
  std::printf("venue: %s (%zu bytes, %zu named features)\n", path.c_str(), text.size(), features);
  std::printf("load+validate+derive: median %.1f ms, min %.1f ms over %d runs\n",
              load_ms[load_ms.size() / 2], load_ms.front(), repeat);
  std::printf("navigation field:     median %.1f ms, min %.1f ms (%zu cells at 0.25 m)\n",
              field_ms[field_ms.size() / 2], field_ms.front(), cells);
  std::printf("peak memory: %.1f MB resident (%.1f MB before loading)\n", static_cast<double>(rss_after) / 1024.0,
              static_cast<double>(rss_before) / 1024.0);
  return 0;
}
