// SPDX-License-Identifier: Apache-2.0
// CAP warning throughput: documents per second through parse + XSD validation + matching against
// 10,000 upcoming gatherings spread over a country (target: >= 2,000 documents/s on one core),
// with p50/p99 per document, and the parse and match stages on their own. The documents are the
// real ones in tests/data/cap (elsewhere in the world: they match nothing here) and synthetic
// warnings inside the country: district polygons around a venue, city circles, regional circles,
// English and Russian text.
//   build/warn-rel/bench/bench_cap [--docs N] [--gatherings G]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "warn/advisory.hpp"
#include "warn/cap.hpp"
#include "warn/match.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigil::warn;
  std::size_t n_docs = 20000, n_gatherings = 10000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--docs") == 0)
      n_docs = std::strtoul(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--gatherings") == 0)
      n_gatherings = std::strtoul(argv[++i], nullptr, 10);
  }

  // A country the size of Germany: lat 47.3..55.0, lon 5.9..15.0; gatherings over the next 14 days.
  const TimeMs now = *parse_cap_time("2025-06-01T08:00:00+02:00");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> ulat(47.3, 55.0), ulon(5.9, 15.0), u01(0, 1);
  static const char* const kKinds[] = {"concert",   "sport",  "theatre",   "conference",
                                       "religious", "market", "school_day"};
  static const char* const kUses[] = {"concert_hall",     "stadium",       "theatre", "exhibition",
                                      "place_of_worship", "outdoor_event", "school"};
  GatheringIndex index;
  std::vector<GatheringRef> gatherings;
  for (std::size_t i = 0; i < n_gatherings; ++i) {
    GatheringRef g;
    g.id = fmt::format("g{}", i);
    g.venue_id = fmt::format("v{}", i / 3);
    const std::size_t k = i % 7;
    g.kind = kKinds[k];
    g.venue_use = kUses[k];
    g.name = fmt::format("Event {}", i);
    g.venue_name = fmt::format("Venue {}", i / 3);
    g.lat = ulat(rng);
    g.lon = ulon(rng);
    g.radius_m = 100 + 400 * u01(rng);
    g.starts_ms = now + static_cast<TimeMs>(u01(rng) * 14 * 86400e3);
    g.ends_ms = g.starts_ms + static_cast<TimeMs>((2 + 3 * u01(rng)) * 3600e3);
    gatherings.push_back(g);
    index.upsert(std::move(g));
  }

  // Documents: the real ones, plus synthetic warnings built as advisories and edited.
  std::vector<std::string> docs;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(VIGIL_SOURCE_DIR) /
                                                           "tests/data/cap"))
    if (e.path().extension() == ".xml") docs.push_back(read(e.path()));
  const std::size_t n_real = docs.size();
  for (int i = 0; i < 200; ++i) {
    const GatheringRef& g = gatherings[static_cast<std::size_t>(i) * 37 % gatherings.size()];
    AdvisoryInput in;
    in.sender = "police@example.de";
    in.identifier = fmt::format("W-{}", i);
    in.sent_ms = now;
    in.utc_offset_minutes = 120;
    in.event = i % 2 ? "Threat to concert halls" : "Угроза проведения массовых мероприятий";
    in.urgency = Urgency::Expected;
    in.severity = Severity::Severe;
    in.certainty = Certainty::Possible;
    in.onset_ms = g.starts_ms - 3600 * 1000;
    in.expires_ms = g.ends_ms + (i % 3) * 24 * 3600 * 1000LL;
    in.headline = fmt::format("Warning {} for {}", i, g.venue_name);
    in.description =
        "Avoid large gatherings. Избегайте мест массового пребывания людей. Stadium, концерт.";
    in.area_desc = "Area";
    in.lat = g.lat;
    in.lon = g.lon;
    in.radius_km = i % 4 == 0 ? 40.0 : i % 4 == 1 ? 12.0 : 2.0;  // region, city, district
    std::string xml = advisory_cap(in);
    if (i % 4 == 3) {  // a district polygon instead of the circle
      const double d = 0.02;
      const std::string poly = fmt::format(
          "<polygon>{0:.5f},{1:.5f} {0:.5f},{3:.5f} {2:.5f},{3:.5f} {2:.5f},{1:.5f} "
          "{0:.5f},{1:.5f}</polygon>",
          g.lat - d, g.lon - d, g.lat + d, g.lon + d);
      const std::size_t c = xml.find("<circle>");
      xml.replace(c, xml.find("</circle>") + 9 - c, poly);
    }
    docs.push_back(std::move(xml));
  }
  for (std::size_t i = 0; i < docs.size(); ++i)
    if (!parse_cap(docs[i])) {
      std::fprintf(stderr, "document %zu does not parse\n", i);
      return 1;
    }

  // Warm-up (schema compilation, caches).
  for (const auto& d : docs) (void)parse_cap(d);

  std::vector<double> per_doc_us;
  per_doc_us.reserve(n_docs);
  std::size_t matches = 0;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n_docs; ++i) {
    const std::string& d = docs[i % docs.size()];
    const auto s = Clock::now();
    auto r = parse_cap(d);
    if (r) matches += index.match(*r, now).size();
    per_doc_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
  }
  const double total_s = seconds_since(t0);

  // Stages on their own.
  const auto tp = Clock::now();
  std::vector<CapAlert> alerts;
  for (std::size_t i = 0; i < docs.size() * 20; ++i) {
    auto r = parse_cap(docs[i % docs.size()]);
    if (i < docs.size()) alerts.push_back(std::move(*r));
  }
  const double parse_s = seconds_since(tp) / static_cast<double>(docs.size() * 20);
  const auto tm = Clock::now();
  std::size_t m2 = 0;
  for (int rep = 0; rep < 20; ++rep)
    for (const auto& a : alerts) m2 += index.match(a, now).size();
  const double match_s = seconds_since(tm) / static_cast<double>(alerts.size() * 20);

  std::printf("bench_cap: %zu gatherings over lat 47.3..55.0, lon 5.9..15.0, next 14 days\n",
              n_gatherings);
  std::printf(
      "documents: %zu distinct (%zu real from tests/data/cap, %zu synthetic), %zu processed\n",
      docs.size(), n_real, docs.size() - n_real, n_docs);
  std::printf(
      "parse + validate + match: %.0f documents/s (target >= 2000), p50 %.1f us, p99 %.1f us, max "
      "%.1f us\n",
      static_cast<double>(n_docs) / total_s, percentile(per_doc_us, 0.50),
      percentile(per_doc_us, 0.99), percentile(per_doc_us, 1.0));
  std::printf("matches: %.1f per document on average (%zu total)\n",
              static_cast<double>(matches) / static_cast<double>(n_docs), matches);
  std::printf("stages: parse + validate %.1f us/document, match %.1f us/document (%zu matches)\n",
              parse_s * 1e6, match_s * 1e6, m2 / 20);
  return 0;
}
