// SPDX-License-Identifier: Apache-2.0
#include "venue/render_svg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "venue/load.hpp"
#include "venue/nav_field.hpp"
#include "venue/venue.hpp"

namespace vigil::venue {
namespace {

geom::Ring rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

// A 20 m × 10 m hall with a pillar, two zones, two exits, a door, a stair to a small upper
// level and three sensors. Built by hand so that the test does not depend on the loader.
Venue test_venue() {
  Venue v;
  v.id = "hall";
  v.name = "Hall <&> \"Q\"";

  Level l0;
  l0.index = 0;
  l0.areas = {Polygon{rect(0, 0, 20, 10), {}}};
  l0.obstacles = {Polygon{rect(9, 4, 11, 6), {}}};
  l0.walkable = {Polygon{rect(0, 0, 20, 10), {rect(9, 4, 11, 6)}}};
  l0.walkable_area_m2 = 196;
  l0.bounds = geom::bounds(l0.areas);
  v.levels[0] = l0;

  Level l1;
  l1.index = 1;
  l1.areas = {Polygon{rect(12, 0, 20, 10), {}}};
  l1.walkable = l1.areas;
  l1.walkable_area_m2 = 80;
  l1.bounds = geom::bounds(l1.areas);
  v.levels[1] = l1;

  Zone main;
  main.id = "Z1";
  main.name = "Main floor";
  main.polygon = {rect(0, 0, 9, 10), {}};
  main.capacity = 150;
  main.capacity_given = true;
  main.area_m2 = 90;
  v.zones.push_back(main);

  Zone tiny;
  tiny.id = "Z&2";
  tiny.name = "Tiny";
  tiny.polygon = {rect(15, 1, 15.2, 1.2), {}};
  tiny.capacity = 1;
  tiny.area_m2 = 0.04;
  v.zones.push_back(tiny);

  Opening e1;
  e1.id = "E1";
  e1.line = {{20, 4}, {20, 6}};
  e1.width_m = 2;
  v.exits.push_back(e1);
  Opening e2;
  e2.id = "E-south";
  e2.line = {{2, 0}, {4, 0}};
  e2.width_m = 2;
  v.exits.push_back(e2);

  Opening d1;
  d1.id = "D1";
  d1.line = {{14, 3}, {14, 5}};
  d1.width_m = 2;
  v.doors.push_back(d1);

  Stair s;
  s.id = "S1";
  s.from_level = 0;
  s.to_level = 1;
  s.footprint = {rect(16, 7, 19, 10), {}};
  s.bottom = {{16, 7}, {19, 7}};
  s.top = {{16, 10}, {19, 10}};
  s.length_m = 4;
  v.stairs.push_back(s);

  Sensor line;
  line.id = "L1";
  line.type = SensorType::line_counter;
  line.line = {{5, 0}, {5, 10}};  // walking north: `in` is westwards (right to left)
  line.into = "Z1";
  line.from = "outside";
  v.sensors.push_back(line);
  Sensor count;
  count.id = "C1";
  count.type = SensorType::zone_counter;
  count.point = {3, 3};
  count.zone = "Z1";
  v.sensors.push_back(count);
  Sensor density;
  density.id = "DEN1";
  density.type = SensorType::density;
  density.point = {6, 8};
  density.zone = "Z1";
  v.sensors.push_back(density);
  return v;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A small XML well-formedness check: balanced tags, quoted attributes, no bare `<` or `&` in
// text. Returns an empty string when the document is fine, else what is wrong.
std::string xml_problem(std::string_view doc) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  auto check_text = [](std::string_view text) -> std::string {
    for (std::size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '>') return "bare '>' in text";
      if (text[k] != '&') continue;
      const std::size_t semi = text.find(';', k);
      if (semi == std::string_view::npos) return "bare '&'";
      const std::string_view entity = text.substr(k, semi - k + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;")
        return "unknown entity " + std::string(entity);
    }
    return {};
  };
  while (i < doc.size()) {
    const std::size_t open = doc.find('<', i);
    if (open == std::string_view::npos) {
      if (auto p = check_text(doc.substr(i)); !p.empty()) return p;
      break;
    }
    if (auto p = check_text(doc.substr(i, open - i)); !p.empty()) return p;
    // Find the end of the tag, skipping quoted attribute values.
    std::size_t k = open + 1;
    char quote = 0;
    while (k < doc.size() && (quote != 0 || doc[k] != '>')) {
      if (quote == 0 && (doc[k] == '"' || doc[k] == '\'')) {
        quote = doc[k];
      } else if (quote != 0 && doc[k] == quote) {
        quote = 0;
      } else if (quote != 0 && doc[k] == '<') {
        return "'<' in an attribute value";
      }
      ++k;
    }
    if (k >= doc.size()) return "unterminated tag";
    const std::string_view tag = doc.substr(open + 1, k - open - 1);
    if (tag.empty()) return "empty tag";
    if (auto p = check_text(tag); !p.empty() && p != "bare '>' in text") return "in a tag: " + p;
    if (tag[0] == '/') {
      const std::string name(tag.substr(1));
      if (stack.empty() || stack.back() != name) return "unexpected </" + name + ">";
      stack.pop_back();
    } else if (tag.back() != '/') {
      const std::size_t end = tag.find_first_of(" \n\t/");
      stack.emplace_back(tag.substr(0, end));
    }
    i = k + 1;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return {};
}

void expect_document(const std::string& svg) {
  ASSERT_FALSE(svg.empty());
  EXPECT_EQ(svg.rfind("<svg", 0), 0U) << svg.substr(0, 80);
  std::string_view tail(svg);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.remove_suffix(1);
  EXPECT_TRUE(tail.ends_with("</svg>"));
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_FALSE(contains(svg, "nan"));
  EXPECT_FALSE(contains(svg, "inf"));
}

TEST(RenderSvg, IsAWellFormedDocument) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "width=\"1200\""));
  EXPECT_TRUE(contains(svg, "xmlns=\"http://www.w3.org/2000/svg\""));
}

TEST(RenderSvg, TitleNamesVenueAndLevel) {
  const Venue v = test_venue();
  RenderOptions opt;
  opt.level = 1;
  const std::string svg = render_svg(v, opt);
  EXPECT_TRUE(contains(svg, "Hall &lt;&amp;&gt; &quot;Q&quot; \u2014 level 1"));
}

TEST(RenderSvg, EscapesNamesAndIds) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  EXPECT_FALSE(contains(svg, "<&>"));
  EXPECT_TRUE(contains(svg, "Hall &lt;&amp;&gt;"));
  EXPECT_TRUE(contains(svg, "data-id=\"Z&amp;2\""));
}

TEST(RenderSvg, LabelsExitsDoorsAndSensors) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  EXPECT_TRUE(contains(svg, ">E1 (2 m)</text>"));
  EXPECT_TRUE(contains(svg, ">E-south (2 m)</text>"));
  EXPECT_TRUE(contains(svg, "class=\"exit\" data-id=\"E1\""));
  EXPECT_TRUE(contains(svg, "class=\"door\" data-id=\"D1\""));
  EXPECT_TRUE(contains(svg, ">D1</text>"));
  for (const char* id : {"L1", "C1", "DEN1"}) {
    EXPECT_TRUE(contains(svg, std::string("class=\"sensor\" data-id=\"") + id + "\"")) << id;
    EXPECT_TRUE(contains(svg, std::string(">") + id + "</text>")) << id;
  }
}

TEST(RenderSvg, ZoneLabelShowsNameAndCapacity) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  EXPECT_TRUE(contains(svg, ">Main floor</tspan>"));
  EXPECT_TRUE(contains(svg, ">capacity 150</tspan>"));
  // The 0.2 m zone is too small for a label (its tooltip still names it).
  EXPECT_FALSE(contains(svg, ">Tiny</tspan>"));
  EXPECT_TRUE(contains(svg, "zone Z&amp;2 (Tiny)"));
}

TEST(RenderSvg, LabelsCanBeTurnedOff) {
  const Venue v = test_venue();
  RenderOptions opt;
  opt.labels = false;
  const std::string svg = render_svg(v, opt);
  expect_document(svg);
  EXPECT_FALSE(contains(svg, ">capacity 150</tspan>"));
  EXPECT_FALSE(contains(svg, ">E1 (2 m)</text>"));
  EXPECT_TRUE(contains(svg, "class=\"exit\" data-id=\"E1\""));  // still drawn
}

TEST(RenderSvg, StairsSayWhereTheyLead) {
  const Venue v = test_venue();
  RenderOptions opt;
  const std::string lower = render_svg(v, opt);
  EXPECT_TRUE(contains(lower, "S1 \u2191 to level 1"));
  opt.level = 1;
  const std::string upper = render_svg(v, opt);
  EXPECT_TRUE(contains(upper, "S1 \u2193 from level 0"));
  // Level 1 has none of level 0's exits.
  EXPECT_FALSE(contains(upper, "data-id=\"E1\""));
}

// Reads the number after `key` in `text`, from `from` on.
double number_after(const std::string& text, std::string_view key, std::size_t from = 0) {
  const std::size_t at = text.find(key, from);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

TEST(RenderSvg, LineCounterArrowPointsToTheInSide) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  const std::size_t group = svg.find("class=\"sensor\" data-id=\"L1\"");
  ASSERT_NE(group, std::string::npos);
  const double line_x = number_after(svg, "x1=\"", group);
  // The arrow head's first point is its tip: walking north along the line, `in` (right to
  // left) points west, i.e. to smaller x in the picture.
  const double tip_x = number_after(svg, "<path d=\"M", group);
  EXPECT_LT(tip_x, line_x - 5);
}

TEST(RenderSvg, NorthIsUp) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  // The south exit (y = 0) is drawn below the east exit's top end (y = 6).
  const double south_y = number_after(svg, "y1=\"", svg.find("data-id=\"E-south\""));
  const double east_top_y = number_after(svg, "y2=\"", svg.find("data-id=\"E1\""));
  EXPECT_GT(south_y, east_top_y);
}

TEST(RenderSvg, NoLegendWithoutField) {
  const Venue v = test_venue();
  const std::string svg = render_svg(v, {});
  EXPECT_FALSE(contains(svg, "id=\"legend\""));
  EXPECT_FALSE(contains(svg, "class=\"field\""));
  EXPECT_TRUE(contains(svg, "class=\"scale\""));
  EXPECT_TRUE(contains(svg, "class=\"north\""));
}

TEST(RenderSvg, EmptyLevelAndEmptyVenueDoNotCrash) {
  const Venue v = test_venue();
  RenderOptions opt;
  opt.level = 7;
  const std::string svg = render_svg(v, opt);
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "level 7"));

  const Venue empty;
  const std::string blank = render_svg(empty, {});
  expect_document(blank);
  EXPECT_TRUE(contains(blank, "venue \u2014 level 0"));
}

TEST(RenderSvg, DegenerateGeometryDoesNotCrash) {
  Venue v;
  v.name = "points";
  Opening e;
  e.id = "E0";
  e.line = {{1, 1}, {1, 1}};  // zero length
  v.exits.push_back(e);
  Zone z;
  z.id = "Z0";
  z.polygon = {{{0, 0}, {1, 1}}, {}};  // a degenerate ring
  v.zones.push_back(z);
  Sensor s;
  s.id = "L0";
  s.type = SensorType::line_counter;
  s.line = {{2, 2}, {2, 2}};
  v.sensors.push_back(s);
  expect_document(render_svg(v, {}));
}

TEST(RenderSvg, IsDeterministic) {
  const Venue v = test_venue();
  EXPECT_EQ(render_svg(v, {}), render_svg(v, {}));
}

TEST(RenderSvg, WidthCanBeChosen) {
  const Venue v = test_venue();
  RenderOptions opt;
  opt.width_px = 800;
  EXPECT_TRUE(contains(render_svg(v, opt), "width=\"800\""));
}

TEST(RenderSvg, FieldShadingHasALegend) {
  const Venue v = test_venue();
  const NavField field = NavField::compute(v);
  RenderOptions opt;
  opt.field = &field;
  const std::string svg = render_svg(v, opt);
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "class=\"field\""));
  EXPECT_TRUE(contains(svg, "id=\"legend\""));
  EXPECT_TRUE(contains(svg, "walking distance to the nearest open exit"));
  EXPECT_TRUE(contains(svg, "clip-path=\"url(#clip-level)\""));
  EXPECT_TRUE(contains(svg, "clip-path=\"url(#clip-stair-0)\""));
  // Everything reaches an exit here.
  EXPECT_FALSE(contains(svg, "no exit reachable"));
  EXPECT_EQ(svg, render_svg(v, opt));
}

TEST(RenderSvg, FieldShowsClosedExitsAndUnreachableSpace) {
  const Venue v = test_venue();
  NavOptions nav;
  nav.closed = {"E1", "E-south"};
  const NavField field = NavField::compute(v, nav);
  RenderOptions opt;
  opt.field = &field;
  const std::string svg = render_svg(v, opt);
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "data-id=\"E1\" data-closed=\"true\""));
  EXPECT_TRUE(contains(svg, ">E1 (2 m) closed</text>"));
  EXPECT_TRUE(contains(svg, "closed: E-south E1"));
  EXPECT_TRUE(contains(svg, "no exit reachable"));
  EXPECT_TRUE(contains(svg, "fill=\"url(#unreachable)\""));
}

TEST(RenderSvg, FieldOnALevelWithoutALayer) {
  const Venue v = test_venue();
  const NavField field = NavField::compute(v);
  RenderOptions opt;
  opt.field = &field;
  opt.level = 5;
  expect_document(render_svg(v, opt));
}

TEST(RenderSvg, FieldIsSmallOnALargeVenue) {
  // 1 km × 200 m at 1 m cells: about one pixel per cell, so cells are merged into blocks of a
  // couple of pixels and then into rectangles, and the document stays small.
  Venue v;
  v.name = "field";
  Level l;
  l.areas = {Polygon{rect(0, 0, 1000, 200), {}}};
  l.walkable = l.areas;
  l.walkable_area_m2 = 200000;
  v.levels[0] = l;
  Opening e;
  e.id = "E";
  e.line = {{0, 90}, {0, 110}};
  e.width_m = 20;
  v.exits.push_back(e);
  NavOptions nav;
  nav.cell_m = 1;
  const NavField field = NavField::compute(v, nav);
  RenderOptions opt;
  opt.field = &field;
  const std::string svg = render_svg(v, opt);
  expect_document(svg);
  EXPECT_LT(svg.size(), 300000U);
}

TEST(RenderSvg, RendersALoadedVenue) {
  const char* text = R"({
    "type": "FeatureCollection",
    "vigil": { "format": "venue", "version": 1, "id": "bar", "name": "Bar <&> Grill" },
    "features": [
      { "type": "Feature", "properties": { "kind": "area", "level": 0 },
        "geometry": { "type": "Polygon", "coordinates": [[[0,0],[30,0],[30,20],[0,20],[0,0]]] } },
      { "type": "Feature", "properties": { "kind": "exit", "id": "EXIT-A", "level": 0 },
        "geometry": { "type": "LineString", "coordinates": [[30,8],[30,12]] } },
      { "type": "Feature",
        "properties": { "kind": "zone", "id": "west", "name": "West & Co", "level": 0, "use": "standing" },
        "geometry": { "type": "Polygon", "coordinates": [[[0,0],[15,0],[15,20],[0,20],[0,0]]] } }
    ] })";
  const LoadResult r = load_venue(text);
  ASSERT_TRUE(r.ok());
  const Venue& v = *r.venue;
  const std::string svg = render_svg(v, {});
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "Bar &lt;&amp;&gt; Grill \u2014 level 0"));
  EXPECT_TRUE(contains(svg, ">West &amp; Co</tspan>"));
  // The default capacity: 300 m² of standing space at the default density.
  EXPECT_TRUE(contains(
      svg, ">capacity " + std::to_string(static_cast<int>(std::lround(v.zones.at(0).capacity))) +
               "</tspan>"));
  EXPECT_TRUE(contains(svg, ">EXIT-A (4 m)</text>"));
}

// Every level of every example venue draws; one also with its field.
TEST(RenderSvg, RendersTheExamples) {
  const std::filesystem::path dir = std::filesystem::path(VIGIL_SOURCE_DIR) / "examples";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(dir))
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".geojson") files.push_back(entry.path());
  if (files.empty()) GTEST_SKIP() << "no examples in " << dir;
  for (const auto& file : files) {
    const LoadResult r = load_venue_file(file);
    ASSERT_TRUE(r.ok()) << file;
    for (const auto& [index, level] : r.venue->levels) {
      RenderOptions opt;
      opt.level = index;
      const std::string svg = render_svg(*r.venue, opt);
      SCOPED_TRACE(file.string() + " level " + std::to_string(index));
      expect_document(svg);
      for (const Opening& e : r.venue->exits) {
        if (e.level == index) {
          EXPECT_TRUE(contains(svg, "data-id=\"" + e.id + "\"")) << e.id;
        }
      }
    }
  }
  const LoadResult hall = load_venue_file(dir / "concert-hall.geojson");
  if (!hall.ok()) return;
  const NavField field = NavField::compute(*hall.venue);
  RenderOptions opt;
  opt.field = &field;
  const std::string svg = render_svg(*hall.venue, opt);
  expect_document(svg);
  EXPECT_TRUE(contains(svg, "id=\"legend\""));
  EXPECT_LT(svg.size(), 400000U);
}

}  // namespace
}  // namespace vigil::venue
