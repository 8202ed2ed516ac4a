// SPDX-License-Identifier: Apache-2.0
#include "venue/render_svg.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace vigil::venue {
namespace {

using geom::Box;
using geom::Ring;

// Layout, in pixels.
constexpr double kSidePx = 40;
constexpr double kHeaderPx = 76;
constexpr double kFooterPx = 112;
constexpr double kMaxPlanHeightPx = 1400;
constexpr double kMinBlockPx = 2.0;   // field cells are merged into blocks at least this wide
constexpr double kMaxSamplePx = 3.0;  // and split into samples at most about this wide
constexpr int kTargetBands = 24;      // about this many colour bands in the distance shading
constexpr double kLegendWidthPx = 300;
constexpr double kKeyRowPx = 22;

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr const char* kWalkableFill = "#efebe1";
constexpr const char* kWallStroke = "#3a3a3a";
constexpr const char* kObstacleFill = "#5c5c5c";
constexpr const char* kExitColour = "#16a34a";
constexpr const char* kDoorColour = "#f08c00";
constexpr const char* kClosedColour = "#d7191c";
constexpr const char* kSensorColour = "#1d4ed8";
constexpr const char* kStairColour = "#444444";
constexpr std::array<const char*, 6> kZoneColours = {"#7b3294", "#00838f", "#a6611a",
                                                     "#c51b7d", "#4d7c0f", "#3f51b5"};

// ---------------------------------------------------------------------------------------------
// Text output

struct Num {  // a number with at most 2 decimals, trailing zeros dropped
  double v;
};
struct Esc {  // XML-escaped text
  std::string_view s;
};

class Svg {
 public:
  Svg& operator<<(std::string_view s) {
    out_ += s;
    return *this;
  }
  Svg& operator<<(const char* s) {
    out_ += s;
    return *this;
  }
  Svg& operator<<(const std::string& s) {
    out_ += s;
    return *this;
  }
  Svg& operator<<(char c) {
    out_ += c;
    return *this;
  }
  Svg& operator<<(int v) {
    char buf[16];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  Svg& operator<<(Num n);
  Svg& operator<<(Esc e);
  // "x y" of a point in pixels.
  Svg& operator<<(Vec2 p) { return *this << Num{p.x} << ' ' << Num{p.y}; }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string format_fixed(double v, int decimals) {
  if (!std::isfinite(v)) v = 0;
  v = std::clamp(v, -1e12, 1e12);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string s(buf, r.ptr);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

Svg& Svg::operator<<(Num n) {
  out_ += format_fixed(n.v, 2);
  return *this;
}

Svg& Svg::operator<<(Esc e) {
  for (const char c : e.s) {
    switch (c) {
      case '&':
        out_ += "&amp;";
        break;
      case '<':
        out_ += "&lt;";
        break;
      case '>':
        out_ += "&gt;";
        break;
      case '"':
        out_ += "&quot;";
        break;
      case '\'':
        out_ += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20) {
          out_ += ' ';
        } else {
          out_ += c;
        }
    }
  }
  return *this;
}

// "1234" → "1,234" for whole numbers shown to people.
std::string format_count(double v) {
  std::string s = format_fixed(std::round(v), 0);
  const std::size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  for (std::size_t i = s.size(); i > start + 3; i -= 3) s.insert(i - 3, 1, ',');
  return s;
}

// Approximate width of a text in pixels (DejaVu Sans averages about 0.56 em per character).
double text_width_px(std::string_view s, double font_px) {
  std::size_t chars = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;  // count UTF-8 code points
  return static_cast<double>(chars) * 0.56 * font_px;
}

// ---------------------------------------------------------------------------------------------
// Geometry helpers

// Maps venue metres to pixels, y flipped so that north is up.
struct View {
  Box box;           // the venue rectangle shown
  double scale = 1;  // px per metre
  double left = 0;
  double top = 0;
  Vec2 px(Vec2 p) const {
    return {left + (p.x - box.min.x) * scale, top + (box.max.y - p.y) * scale};
  }
  Vec2 metres(Vec2 q) const {
    return {box.min.x + (q.x - left) / scale, box.max.y - (q.y - top) / scale};
  }
};

// 1, 2, 2.5, 5 × 10^k: the smallest such number >= v.
double nice_ceil(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

// 1, 2, 5 × 10^k: the largest such number <= v.
double nice_floor(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (const double m : {5.0, 2.0, 1.0})
    if (m * p <= v * (1 + 1e-9)) return m * p;
  return p;
}

Vec2 left_normal(Vec2 d) { return geom::normalized(Vec2{-d.y, d.x}); }

bool inside_any(const MultiPolygon& m, Vec2 p) { return geom::contains(m, p); }

// The area centroid of a ring (the vertex mean for degenerate rings).
Vec2 ring_centroid(const Ring& r) {
  if (r.empty()) return {};
  double a2 = 0;
  Vec2 c;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Vec2 p = r[i];
    const Vec2 q = r[(i + 1) % r.size()];
    const double w = geom::cross(p, q);
    a2 += w;
    c += (p + q) * w;
  }
  if (std::abs(a2) < 1e-12) {
    Vec2 m;
    for (const Vec2& p : r) m += p;
    return m / static_cast<double>(r.size());
  }
  return c / (3 * a2);
}

// Distances from p to the polygon's boundary straight west, east, south and north.
struct AxisRoom {
  double west = INFINITY;
  double east = INFINITY;
  double south = INFINITY;
  double north = INFINITY;
};
AxisRoom axis_room(const Polygon& poly, Vec2 p) {
  AxisRoom r;
  const auto ring = [&](const Ring& ring_pts) {
    const std::size_t n = ring_pts.size();
    for (std::size_t i = 0; i < n; ++i) {
      const Vec2 a = ring_pts[i];
      const Vec2 b = ring_pts[(i + 1) % n];
      if ((a.y > p.y) != (b.y > p.y)) {
        const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
        if (x < p.x) {
          r.west = std::min(r.west, p.x - x);
        } else {
          r.east = std::min(r.east, x - p.x);
        }
      }
      if ((a.x > p.x) != (b.x > p.x)) {
        const double y = a.y + (p.x - a.x) * (b.y - a.y) / (b.x - a.x);
        if (y < p.y) {
          r.south = std::min(r.south, p.y - y);
        } else {
          r.north = std::min(r.north, y - p.y);
        }
      }
    }
  };
  ring(poly.outer);
  for (const Ring& h : poly.holes) ring(h);
  return r;
}

// A point well inside the polygon for its label: the centroid when it is comfortably inside,
// otherwise, of the sample points nearly as far from the boundary as the farthest, the one
// nearest the centroid. The point is then centred in the room along both axes.
Vec2 label_point(const Polygon& poly) {
  const Vec2 c = ring_centroid(poly.outer);
  const Box b = geom::bounds(poly);
  if (b.empty()) return c;
  constexpr int kSamples = 24;
  std::vector<std::pair<Vec2, double>> inside;
  double best_d = 0;
  for (int j = 0; j < kSamples; ++j) {
    for (int i = 0; i < kSamples; ++i) {
      const Vec2 p{b.min.x + (i + 0.5) * b.width() / kSamples,
                   b.min.y + (j + 0.5) * b.height() / kSamples};
      if (!geom::contains(poly, p)) continue;
      const double d = geom::distance_to_boundary(poly, p);
      inside.emplace_back(p, d);
      best_d = std::max(best_d, d);
    }
  }
  if (inside.empty()) return c;
  Vec2 p = c;
  if (!geom::contains(poly, c) || geom::distance_to_boundary(poly, c) < 0.5 * best_d) {
    double nearest = INFINITY;
    for (const auto& [q, d] : inside) {
      if (d < 0.7 * best_d) continue;
      const double to_c = geom::distance(q, c);
      if (to_c < nearest) {
        nearest = to_c;
        p = q;
      }
    }
  }
  AxisRoom room = axis_room(poly, p);
  if (std::isfinite(room.west) && std::isfinite(room.east)) p.x += 0.5 * (room.east - room.west);
  room = axis_room(poly, p);
  if (std::isfinite(room.south) && std::isfinite(room.north))
    p.y += 0.5 * (room.north - room.south);
  return geom::contains(poly, p) ? p : c;
}

// Every feature drawn on the level, so that nothing falls outside the picture.
Box level_box(const Venue& v, const RenderOptions& opt) {
  Box b;
  const int lv = opt.level;
  if (const Level* level = v.find_level(lv)) {
    b.extend(geom::bounds(level->areas));
    b.extend(geom::bounds(level->obstacles));
    b.extend(geom::bounds(level->walkable));
  }
  for (const Zone& z : v.zones)
    if (z.level == lv) b.extend(geom::bounds(z.polygon));
  for (const Opening& o : v.exits)
    if (o.level == lv) b.extend(geom::bounds(o.line));
  for (const Opening& o : v.doors)
    if (o.level == lv) b.extend(geom::bounds(o.line));
  for (const Stair& s : v.stairs) {
    if (s.from_level != lv && s.to_level != lv) continue;
    b.extend(geom::bounds(s.footprint));
    b.extend(geom::bounds(s.bottom));
    b.extend(geom::bounds(s.top));
  }
  for (const Sensor& s : v.sensors) {
    if (s.level != lv) continue;
    if (s.type == SensorType::line_counter) {
      b.extend(geom::bounds(s.line));
    } else {
      b.extend(s.point);
    }
  }
  if (opt.field != nullptr)
    for (const Hazard& h : opt.field->options().hazards)
      if (h.level == lv) b.extend(geom::bounds(h.polygon));
  return b;
}

void polygon_path(Svg& s, const View& v, const Polygon& poly) {
  auto ring = [&](const Ring& r) {
    if (r.size() < 2) return;
    s << 'M';
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (i > 0) s << ' ';
      s << v.px(r[i]);
    }
    s << 'Z';
  };
  ring(poly.outer);
  for (const Ring& h : poly.holes) ring(h);
}

void multipolygon_path(Svg& s, const View& v, const MultiPolygon& m) {
  for (const Polygon& p : m) polygon_path(s, v, p);
}

void line(Svg& s, Vec2 a, Vec2 b) {
  s << "<line x1=\"" << Num{a.x} << "\" y1=\"" << Num{a.y} << "\" x2=\"" << Num{b.x} << "\" y2=\""
    << Num{b.y} << "\"/>";
}

// A filled arrow head with its tip at `tip` (pixels), pointing along `dir` (pixels).
void arrow_head(Svg& s, Vec2 tip, Vec2 dir, double length_px, const char* fill) {
  const Vec2 d = geom::normalized(dir);
  const Vec2 n{-d.y, d.x};
  const Vec2 base = tip - d * length_px;
  const Vec2 p1 = base + n * (0.5 * length_px);
  const Vec2 p2 = base - n * (0.5 * length_px);
  s << "<path d=\"M" << tip << ' ' << p1 << ' ' << p2 << "Z\" fill=\"" << fill << "\"/>";
}

// A text anchored at p, placed on the side given by the pixel direction `side`.
struct Placed {
  Vec2 at;
  const char* anchor = "middle";
};
Placed place_beside(Vec2 p, Vec2 side, double offset_px, double font_px) {
  const Vec2 d = geom::normalized(side);
  Placed r;
  r.at = p + d * offset_px;
  if (d.x > 0.45) {
    r.anchor = "start";
  } else if (d.x < -0.45) {
    r.anchor = "end";
  }
  // y is the baseline: shift so that the text sits on the requested side.
  if (d.y > 0.45) {
    r.at.y += 0.8 * font_px;
  } else if (d.y >= -0.45) {
    r.at.y += 0.35 * font_px;
  }
  return r;
}

void text(Svg& s, Vec2 at, double font_px, const char* anchor, std::string_view content,
          std::string_view extra = {}) {
  s << "<text x=\"" << Num{at.x} << "\" y=\"" << Num{at.y} << "\" font-size=\"" << Num{font_px}
    << '"';
  if (std::string_view(anchor) != "start") s << " text-anchor=\"" << anchor << '"';
  if (!extra.empty()) s << ' ' << extra;
  s << '>' << Esc{content} << "</text>";
}

// ---------------------------------------------------------------------------------------------
// Colour

struct Rgb {
  double r = 0;
  double g = 0;
  double b = 0;
};

// Viridis, from a degree-6 polynomial fit of the matplotlib table (t in [0, 1]).
Rgb viridis(double t) {
  t = std::clamp(t, 0.0, 1.0);
  static constexpr std::array<Rgb, 7> c = {{
      {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
      {0.1050930431085774, 1.404613529898575, 1.384590162594685},
      {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
      {-4.634230498983486, -5.799100973351585, -19.33244095627987},
      {6.228269936347081, 14.17993336680509, 56.69055260068105},
      {4.776384997670288, -13.74514537774601, -65.35303263337234},
      {-5.435455855934631, 4.645852612178535, 26.3124352495832},
  }};
  Rgb out = c[6];
  for (int i = 5; i >= 0; --i) {
    const Rgb& k = c[static_cast<std::size_t>(i)];
    out = {k.r + t * out.r, k.g + t * out.g, k.b + t * out.b};
  }
  return out;
}

std::string hex(Rgb c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "#";
  for (const double v : {c.r, c.g, c.b}) {
    const int byte = static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
    s += kDigits[byte / 16];
    s += kDigits[byte % 16];
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Distance field

struct ShadedLayer {
  const NavLayer* layer = nullptr;
  int index = -1;  // in NavField::layers()
  std::string clip_id;
};

struct FieldShade {
  std::vector<ShadedLayer> layers;
  double max_m = 0;   // largest finite distance on the shaded layers
  double step_m = 1;  // width of a colour band
  int bands = 1;
  bool any_unreachable = false;
  bool any_reachable = false;
  std::vector<std::string> colours;  // per band
};

constexpr int kEmpty = -1;
constexpr int kUnreachableCode = -2;

FieldShade prepare_field(const Venue& v, const RenderOptions& opt) {
  FieldShade f;
  const auto& layers = opt.field->layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const NavLayer& l = layers[i];
    const int index = static_cast<int>(i);
    if (l.kind == NavLayer::Kind::level && l.level == opt.level) {
      f.layers.push_back({&l, index, "clip-level"});
    } else if (l.kind == NavLayer::Kind::stair && l.stair >= 0 &&
               static_cast<std::size_t>(l.stair) < v.stairs.size()) {
      const Stair& s = v.stairs[static_cast<std::size_t>(l.stair)];
      if (s.from_level == opt.level || s.to_level == opt.level)
        f.layers.push_back({&l, index, "clip-stair-" + std::to_string(l.stair)});
    }
  }
  for (const ShadedLayer& sl : f.layers) {
    const NavLayer& l = *sl.layer;
    const std::size_t n = std::min({l.grid.size(), l.walkable.size(), l.distance_m.size()});
    for (std::size_t i = 0; i < n; ++i) {
      if (l.walkable[i] == 0) continue;
      const double d = l.distance_m[i];
      if (std::isfinite(d)) {
        f.max_m = std::max(f.max_m, d);
        f.any_reachable = true;
      } else {
        f.any_unreachable = true;
      }
    }
  }
  f.step_m = std::max(0.5, nice_ceil(f.max_m / kTargetBands));
  f.bands = std::max(1, static_cast<int>(std::ceil(f.max_m / f.step_m - 1e-9)));
  for (int b = 0; b < f.bands; ++b) f.colours.push_back(hex(viridis((b + 0.5) / f.bands)));
  return f;
}

// Draws one layer as rectangles of merged samples, one path per colour band. Where cells are
// smaller than kMinBlockPx they are averaged in blocks of k × k; where they are larger than
// kMaxSamplePx each is split into sub × sub samples of the interpolated field, so that the band
// edges are smooth rather than the cell staircase.
void shade_layer(Svg& s, const View& v, const FieldShade& f, const NavField& field,
                 int layer_index) {
  const NavLayer& l = field.layers()[static_cast<std::size_t>(layer_index)];
  const geom::GridSpec& g = l.grid;
  if (g.nx <= 0 || g.ny <= 0 || !(g.cell_m > 0)) return;
  if (l.walkable.size() < g.size() || l.distance_m.size() < g.size()) return;
  const double cell_px = g.cell_m * v.scale;
  const int k = std::max(1, static_cast<int>(std::ceil(kMinBlockPx / cell_px - 1e-9)));
  const int sub =
      k > 1 ? 1 : std::clamp(static_cast<int>(std::floor(cell_px / kMaxSamplePx)), 1, 8);
  const int bnx = k > 1 ? (g.nx + k - 1) / k : g.nx * sub;
  const int bny = k > 1 ? (g.ny + k - 1) / k : g.ny * sub;
  const double step_m = k > 1 ? k * g.cell_m : g.cell_m / sub;
  const auto bidx = [bnx](int i, int j) {
    return static_cast<std::size_t>(j) * static_cast<std::size_t>(bnx) +
           static_cast<std::size_t>(i);
  };
  const auto band = [&f](double d) {
    return std::clamp(static_cast<int>(std::floor(d / f.step_m)), 0, f.bands - 1);
  };

  // One code per sample: a band, kUnreachableCode or kEmpty.
  std::vector<int> code(static_cast<std::size_t>(bnx) * static_cast<std::size_t>(bny), kEmpty);
  for (int bj = 0; bj < bny; ++bj) {
    for (int bi = 0; bi < bnx; ++bi) {
      if (k == 1) {
        const std::size_t c = g.index(bi / sub, bj / sub);
        if (l.walkable[c] == 0) continue;
        const double d_cell = l.distance_m[c];
        if (!std::isfinite(d_cell)) {
          code[bidx(bi, bj)] = kUnreachableCode;
          continue;
        }
        double d = d_cell;
        if (sub > 1) {
          d = field.distance(layer_index,
                             {g.origin.x + (bi + 0.5) * step_m, g.origin.y + (bj + 0.5) * step_m});
          if (!std::isfinite(d)) d = d_cell;
        }
        code[bidx(bi, bj)] = band(d);
        continue;
      }
      int walkable = 0;
      int finite = 0;
      double sum = 0;
      for (int j = bj * k; j < std::min(g.ny, (bj + 1) * k); ++j) {
        for (int i = bi * k; i < std::min(g.nx, (bi + 1) * k); ++i) {
          const std::size_t c = g.index(i, j);
          if (l.walkable[c] == 0) continue;
          ++walkable;
          const double d = l.distance_m[c];
          if (std::isfinite(d)) {
            ++finite;
            sum += d;
          }
        }
      }
      if (walkable == 0) continue;
      code[bidx(bi, bj)] = finite == 0 ? kUnreachableCode : band(sum / finite);
    }
  }
  // Grow by about a cell into non-walkable samples, so that the clip path (the exact outline)
  // rather than the cell raster makes the edge.
  for (int pass = 0; pass < sub; ++pass) {
    std::vector<int> grown = code;
    for (int bj = 0; bj < bny; ++bj) {
      for (int bi = 0; bi < bnx; ++bi) {
        if (code[bidx(bi, bj)] != kEmpty) continue;
        constexpr std::array<std::array<int, 2>, 4> kNeighbours = {
            {{-1, 0}, {1, 0}, {0, -1}, {0, 1}}};
        for (const auto& nb : kNeighbours) {
          const int ni = bi + nb[0];
          const int nj = bj + nb[1];
          if (ni < 0 || nj < 0 || ni >= bnx || nj >= bny) continue;
          if (code[bidx(ni, nj)] != kEmpty) {
            grown[bidx(bi, bj)] = code[bidx(ni, nj)];
            break;
          }
        }
      }
    }
    code = std::move(grown);
  }
  const std::vector<int>& grown = code;
  const double max_x = g.origin.x + g.nx * g.cell_m;
  const double max_y = g.origin.y + g.ny * g.cell_m;

  // Runs along rows, merged with identical runs of the rows above into rectangles.
  std::map<int, Svg> paths;  // code → path data
  const auto emit = [&](int i0, int i1, int j0, int j1, int c) {
    const double x0 = g.origin.x + i0 * step_m;
    const double x1 = std::min(max_x, g.origin.x + (i1 + 1) * step_m);
    const double y0 = g.origin.y + j0 * step_m;
    const double y1 = std::min(max_y, g.origin.y + (j1 + 1) * step_m);
    const Vec2 tl = v.px({x0, y1});
    const Vec2 br = v.px({x1, y0});
    paths[c] << 'M' << tl << 'H' << Num{br.x} << 'V' << Num{br.y} << 'H' << Num{tl.x} << 'Z';
  };
  using RunKey = std::tuple<int, int, int>;  // i0, i1, code
  std::map<RunKey, int> open;                // → first row
  for (int bj = 0; bj <= bny; ++bj) {
    std::map<RunKey, int> next;
    if (bj < bny) {
      int bi = 0;
      while (bi < bnx) {
        const int c = grown[bidx(bi, bj)];
        int end = bi;
        while (end + 1 < bnx && grown[bidx(end + 1, bj)] == c) ++end;
        if (c != kEmpty) {
          const RunKey key{bi, end, c};
          const auto it = open.find(key);
          next[key] = it == open.end() ? bj : it->second;
        }
        bi = end + 1;
      }
    }
    for (const auto& [key, first] : open)
      if (next.find(key) == next.end())
        emit(std::get<0>(key), std::get<1>(key), first, bj - 1, std::get<2>(key));
    open = std::move(next);
  }

  for (auto& [c, path] : paths) {
    s << "<path fill=\"";
    if (c == kUnreachableCode) {
      s << "url(#unreachable)";
    } else {
      s << f.colours[static_cast<std::size_t>(c)];
    }
    s << "\" d=\"" << path.take() << "\"/>\n";
  }
}

void draw_legend(Svg& s, const FieldShade& f, double x0, double y0) {
  constexpr double kBarH = 14;
  const double w = kLegendWidthPx;
  const double range = f.bands * f.step_m;
  const double bar_y = y0 + 8;
  s << "<g id=\"legend\">\n";
  text(s, {x0, y0}, 12, "start", "walking distance to the nearest open exit");
  if (f.any_reachable) {
    for (int b = 0; b < f.bands; ++b) {
      const double bx0 = x0 + w * b / f.bands;
      const double bx1 = x0 + w * (b + 1) / f.bands;
      s << "<rect x=\"" << Num{bx0} << "\" y=\"" << Num{bar_y} << "\" width=\""
        << Num{bx1 - bx0 + 0.3} << "\" height=\"" << Num{kBarH} << "\" fill=\""
        << f.colours[static_cast<std::size_t>(b)] << "\"/>";
    }
    s << "<rect x=\"" << Num{x0} << "\" y=\"" << Num{bar_y} << "\" width=\"" << Num{w}
      << "\" height=\"" << Num{kBarH}
      << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"0.8\"/>\n";
    // Ticks at round values, about five of them.
    const double tick = nice_ceil(range / 5);
    const int ticks = static_cast<int>(std::floor(range / tick + 1e-9));
    s << "<g stroke=\"#333\" stroke-width=\"0.8\">";
    for (int t = 0; t <= ticks; ++t) {
      const double x = x0 + w * (t * tick) / range;
      line(s, {x, bar_y + kBarH}, {x, bar_y + kBarH + 4});
    }
    s << "</g>";
    for (int t = 0; t <= ticks; ++t) {
      const double x = x0 + w * (t * tick) / range;
      text(s, {x, bar_y + kBarH + 16}, 11, "middle", format_fixed(t * tick, 1));
    }
    text(s, {x0 + w + 8, bar_y + kBarH - 2}, 11, "start", "m");
  } else {
    text(s, {x0, bar_y + 11}, 11, "start", "(no open exit can be reached from this level)");
  }
  if (f.any_unreachable) {  // left of the bar
    const double ux = x0 - 150;
    s << "<rect x=\"" << Num{ux} << "\" y=\"" << Num{bar_y + 1} << "\" width=\"24\" height=\"12\" "
      << "fill=\"url(#unreachable)\" stroke=\"#333\" stroke-width=\"0.8\"/>";
    text(s, {ux + 30, bar_y + 11}, 11, "start", "no exit reachable");
  }
  s << "</g>\n";
}

// ---------------------------------------------------------------------------------------------
// The plan

class Renderer {
 public:
  Renderer(const Venue& venue, const RenderOptions& opt) : venue_(venue), opt_(opt) {
    level_ = venue.find_level(opt.level);
    if (opt.field != nullptr) closed_ = &opt.field->options().closed;
  }

  std::string run() {
    layout();
    if (opt_.field != nullptr) field_ = prepare_field(venue_, opt_);
    header();
    defs();
    floor();
    if (opt_.field != nullptr) field();
    hazards();
    zones();
    obstacles_and_walls();
    stairs();
    openings();
    sensors();
    if (opt_.labels) labels();
    title();
    north_arrow();
    footer();
    s_ << "</svg>\n";
    return s_.take();
  }

 private:
  bool is_closed(const std::string& id) const {
    return closed_ != nullptr && closed_->count(id) > 0;
  }

  void layout() {
    width_ = std::clamp(opt_.width_px, 800, 8000);
    Box content = level_box(venue_, opt_);
    if (content.empty()) content = Box{{0, 0}, {10, 10}};
    // At least 1 m in each direction.
    if (content.width() < 1) {
      const double c = 0.5 * (content.min.x + content.max.x);
      content.min.x = c - 0.5;
      content.max.x = c + 0.5;
    }
    if (content.height() < 1) {
      const double c = 0.5 * (content.min.y + content.max.y);
      content.min.y = c - 0.5;
      content.max.y = c + 0.5;
    }
    // A margin around the plan, widened where labels outside the walls would leave the page.
    const double pad = std::max(1.0, 0.03 * std::max(content.width(), content.height()));
    double pad_w = pad;
    double pad_e = pad;
    double pad_s = pad;
    double pad_n = pad;
    for (int pass = 0; pass < 4; ++pass) {
      Box b = content;
      b.min -= Vec2{pad_w, pad_s};
      b.max += Vec2{pad_e, pad_n};
      const double plan_w = width_ - 2 * kSidePx;
      double scale = plan_w / b.width();
      if (b.height() * scale > kMaxPlanHeightPx) scale = kMaxPlanHeightPx / b.height();
      view_.box = b;
      view_.scale = scale;
      view_.left = kSidePx + 0.5 * (plan_w - b.width() * scale);
      view_.top = kHeaderPx;
      const double plan_bottom = kHeaderPx + b.height() * scale;
      Box ink;  // pixels
      for (const Label& l : feature_labels()) ink.extend(label_box(l));
      if (ink.empty()) break;
      constexpr double kSlackPx = 4;
      const double over_w = std::max(0.0, 12 - ink.min.x);
      const double over_e = std::max(0.0, ink.max.x - (width_ - 12));
      const double over_n = std::max(0.0, (kHeaderPx - 8) - ink.min.y);
      const double over_s = std::max(0.0, ink.max.y - (plan_bottom + 6));
      if (over_w + over_e + over_n + over_s < 0.5) break;
      if (over_w > 0) pad_w += (over_w + kSlackPx) / scale;
      if (over_e > 0) pad_e += (over_e + kSlackPx) / scale;
      if (over_n > 0) pad_n += (over_n + kSlackPx) / scale;
      if (over_s > 0) pad_s += (over_s + kSlackPx) / scale;
    }
    height_ = static_cast<int>(std::ceil(kHeaderPx + view_.box.height() * view_.scale + kFooterPx +
                                         (key_rows() - 1) * kKeyRowPx));
  }

  void header() {
    s_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_ << "\" height=\""
       << height_ << "\" viewBox=\"0 0 " << width_ << ' ' << height_ << "\" font-family=\"" << kFont
       << "\">\n";
    s_ << "<title>" << Esc{title_text()} << "</title>\n";
    s_ << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  }

  std::string venue_name() const {
    if (!venue_.name.empty()) return venue_.name;
    if (!venue_.id.empty()) return venue_.id;
    return "venue";
  }
  std::string title_text() const {
    return venue_name() + " \u2014 level " + std::to_string(opt_.level);
  }

  void defs() {
    s_ << "<defs>\n";
    s_ << "<pattern id=\"unreachable\" patternUnits=\"userSpaceOnUse\" width=\"8\" height=\"8\" "
          "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#fbd3ea\"/>"
          "<rect width=\"3\" height=\"8\" fill=\"#d6007e\"/></pattern>\n";
    s_ << "<pattern id=\"hazard\" patternUnits=\"userSpaceOnUse\" width=\"10\" height=\"10\" "
          "patternTransform=\"rotate(-45)\"><rect width=\"10\" height=\"10\" fill=\"#fde0dd\" "
          "fill-opacity=\"0.6\"/><rect width=\"4\" height=\"10\" fill=\"#d7191c\"/></pattern>\n";
    if (opt_.field != nullptr) {
      s_ << "<clipPath id=\"clip-level\"><path clip-rule=\"evenodd\" d=\"";
      if (level_ != nullptr)
        multipolygon_path(s_, view_, level_->walkable.empty() ? level_->areas : level_->walkable);
      s_ << "\"/></clipPath>\n";
      for (const ShadedLayer& sl : field_.layers) {
        if (sl.layer->kind != NavLayer::Kind::stair) continue;
        s_ << "<clipPath id=\"" << sl.clip_id << "\"><path clip-rule=\"evenodd\" d=\"";
        polygon_path(s_, view_, venue_.stairs[static_cast<std::size_t>(sl.layer->stair)].footprint);
        s_ << "\"/></clipPath>\n";
      }
    }
    s_ << "</defs>\n";
  }

  const MultiPolygon* walkable_shape() const {
    if (level_ == nullptr) return nullptr;
    return level_->walkable.empty() ? &level_->areas : &level_->walkable;
  }

  void floor() {
    const MultiPolygon* w = walkable_shape();
    if (w == nullptr || w->empty()) return;
    s_ << "<path class=\"walkable\" fill=\"" << kWalkableFill << "\" fill-rule=\"evenodd\" d=\"";
    multipolygon_path(s_, view_, *w);
    s_ << "\"/>\n";
  }

  void field() {
    s_ << "<g class=\"field\" shape-rendering=\"crispEdges\">\n";
    for (const ShadedLayer& sl : field_.layers) {
      s_ << "<g clip-path=\"url(#" << sl.clip_id << ")\">\n";
      shade_layer(s_, view_, field_, *opt_.field, sl.index);
      s_ << "</g>\n";
    }
    s_ << "</g>\n";
  }

  void hazards() {
    if (opt_.field == nullptr) return;
    for (const Hazard& h : opt_.field->options().hazards) {
      if (h.level != opt_.level) continue;
      s_ << "<path class=\"hazard\" fill=\"url(#hazard)\" fill-rule=\"evenodd\" stroke=\""
         << kClosedColour << "\" stroke-width=\"1.5\" d=\"";
      polygon_path(s_, view_, h.polygon);
      s_ << "\"/>\n";
    }
  }

  const char* zone_colour(std::size_t i) const { return kZoneColours[i % kZoneColours.size()]; }

  void zones() {
    const double fill_opacity = opt_.field != nullptr ? 0.06 : 0.14;
    for (std::size_t i = 0; i < venue_.zones.size(); ++i) {
      const Zone& z = venue_.zones[i];
      if (z.level != opt_.level) continue;
      s_ << "<g class=\"zone\" data-id=\"" << Esc{z.id} << "\"><title>" << Esc{zone_tooltip(z)}
         << "</title>";
      s_ << "<path fill=\"" << zone_colour(i) << "\" fill-opacity=\"" << Num{fill_opacity}
         << "\" stroke=\"" << zone_colour(i)
         << "\" stroke-opacity=\"0.85\" stroke-width=\"1.6\" stroke-dasharray=\"7 4\" "
         << "fill-rule=\"evenodd\" d=\"";
      polygon_path(s_, view_, z.polygon);
      s_ << "\"/></g>\n";
    }
  }

  std::string zone_tooltip(const Zone& z) const {
    std::string t = "zone " + z.id;
    if (!z.name.empty()) t += " (" + z.name + ")";
    t += ": ";
    t += to_string(z.use);
    t += ", " + format_fixed(z.area_m2, 1) + " m\u00b2, capacity " + format_count(z.capacity);
    return t;
  }

  void obstacles_and_walls() {
    if (level_ == nullptr) return;
    if (!level_->obstacles.empty()) {
      s_ << "<path class=\"obstacle\" fill=\"" << kObstacleFill << "\" fill-rule=\"evenodd\" d=\"";
      multipolygon_path(s_, view_, level_->obstacles);
      s_ << "\"/>\n";
    }
    const MultiPolygon* w = walkable_shape();
    if (w != nullptr && !w->empty()) {
      s_ << "<path class=\"wall\" fill=\"none\" stroke=\"" << kWallStroke
         << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\" d=\"";
      multipolygon_path(s_, view_, *w);
      s_ << "\"/>\n";
    }
  }

  // The bottom and top edges paired end to end (so that treads do not cross).
  static std::pair<Segment, Segment> stair_edges(const Stair& st) {
    Segment top = st.top;
    if (geom::distance(st.bottom.a, top.a) + geom::distance(st.bottom.b, top.b) >
        geom::distance(st.bottom.a, top.b) + geom::distance(st.bottom.b, top.a))
      std::swap(top.a, top.b);
    return {st.bottom, top};
  }

  void stairs() {
    for (std::size_t i = 0; i < venue_.stairs.size(); ++i) {
      const Stair& st = venue_.stairs[i];
      if (st.from_level != opt_.level && st.to_level != opt_.level) continue;
      s_ << "<g class=\"stair\" data-id=\"" << Esc{st.id} << "\"><title>" << Esc{stair_tooltip(st)}
         << "</title>";
      s_ << "<path fill=\"" << (opt_.field != nullptr ? "none" : "#fafafa") << "\" stroke=\""
         << kStairColour << "\" stroke-width=\"1.2\" fill-rule=\"evenodd\" d=\"";
      polygon_path(s_, view_, st.footprint);
      s_ << "\"/>";
      // Treads about every 0.3 m (at least 4 px apart), parallel to the bottom edge.
      const auto [bottom, top] = stair_edges(st);
      const double len_px = st.plan_length_m() * view_.scale;
      const int treads =
          std::clamp(static_cast<int>(std::min(st.plan_length_m() / 0.3, len_px / 4)), 1, 60);
      s_ << "<g stroke=\"" << kStairColour << "\" stroke-width=\"0.8\" stroke-opacity=\"0.7\">";
      for (int t = 1; t < treads; ++t) {
        const double u = static_cast<double>(t) / treads;
        line(s_, view_.px(bottom.a + (top.a - bottom.a) * u),
             view_.px(bottom.b + (top.b - bottom.b) * u));
      }
      s_ << "</g>";
      s_ << "<g stroke=\"" << kStairColour << "\" stroke-width=\"2.5\" stroke-linecap=\"round\">";
      line(s_, view_.px(bottom.a), view_.px(bottom.b));
      line(s_, view_.px(top.a), view_.px(top.b));
      s_ << "</g>";
      // The arrow points up the stair, bottom → top.
      const Vec2 from = view_.px(bottom.midpoint());
      const Vec2 to = view_.px(top.midpoint());
      const Vec2 dir = to - from;
      const double len = geom::norm(dir);
      if (len > 8) {
        const Vec2 d = dir / len;
        const double inset = std::min(0.15 * len, 6.0);
        const Vec2 a = from + d * inset;
        const Vec2 b = to - d * inset;
        const double head = std::clamp(0.25 * len, 5.0, 12.0);
        s_ << "<g stroke=\"#ffffff\" stroke-width=\"4.5\" stroke-linecap=\"round\" "
              "stroke-opacity=\"0.8\">";
        line(s_, a, b - d * head);
        s_ << "</g><g stroke=\"" << kStairColour << "\" stroke-width=\"2.5\">";
        line(s_, a, b - d * (0.8 * head));
        s_ << "</g>";
        arrow_head(s_, b, d, head, kStairColour);
      }
      s_ << "</g>\n";
    }
  }

  std::string stair_tooltip(const Stair& st) const {
    return "stair " + st.id + (st.name.empty() ? "" : " (" + st.name + ")") + ": level " +
           std::to_string(st.from_level) + " \u2192 level " + std::to_string(st.to_level) + ", " +
           format_fixed(st.length_m > 0 ? st.length_m : st.plan_length_m(), 1) + " m";
  }

  void openings() {
    const auto draw = [&](const Opening& o, const char* cls, const char* colour, double width_px) {
      const bool closed = is_closed(o.id);
      const Vec2 a = view_.px(o.line.a);
      const Vec2 b = view_.px(o.line.b);
      s_ << "<g class=\"" << cls << "\" data-id=\"" << Esc{o.id} << '"';
      if (closed) s_ << " data-closed=\"true\"";
      s_ << "><title>" << cls << ' ' << Esc{o.id};
      if (!o.name.empty()) s_ << " (" << Esc{o.name} << ')';
      s_ << ": " << Esc{format_fixed(o.width_m, 2)} << " m wide" << (closed ? ", closed" : "")
         << "</title>";
      s_ << "<g stroke-linecap=\"butt\"><g stroke=\"#ffffff\" stroke-width=\"" << Num{width_px + 3}
         << "\">";
      line(s_, a, b);
      s_ << "</g><g stroke=\"" << (closed ? kClosedColour : colour) << "\" stroke-width=\""
         << Num{width_px} << '"' << (closed ? " stroke-dasharray=\"4 3\"" : "") << '>';
      line(s_, a, b);
      s_ << "</g></g>";
      if (closed) {  // a cross over the middle
        const Vec2 m = (a + b) * 0.5;
        const double r = 6;
        s_ << "<g stroke=\"" << kClosedColour << "\" stroke-width=\"2.5\">";
        line(s_, m + Vec2{-r, -r}, m + Vec2{r, r});
        line(s_, m + Vec2{-r, r}, m + Vec2{r, -r});
        s_ << "</g>";
      }
      s_ << "</g>\n";
    };
    for (const Opening& d : venue_.doors)
      if (d.level == opt_.level) draw(d, "door", kDoorColour, 4);
    for (const Opening& e : venue_.exits)
      if (e.level == opt_.level) draw(e, "exit", kExitColour, 7);
  }

  void sensors() {
    for (const Sensor& sn : venue_.sensors) {
      if (sn.level != opt_.level) continue;
      s_ << "<g class=\"sensor\" data-id=\"" << Esc{sn.id} << "\"><title>"
         << Esc{sensor_tooltip(sn)} << "</title>";
      if (sn.type == SensorType::line_counter) {
        const Vec2 a = view_.px(sn.line.a);
        const Vec2 b = view_.px(sn.line.b);
        s_ << "<g stroke-linecap=\"round\"><g stroke=\"#ffffff\" stroke-width=\"5\">";
        line(s_, a, b);
        s_ << "</g><g stroke=\"" << kSensorColour << "\" stroke-width=\"2.5\">";
        line(s_, a, b);
        s_ << "</g></g>";
        // `in` crosses from right to left walking a → b: the left normal, mapped to pixels.
        const Vec2 m = view_.px(sn.line.midpoint());
        const Vec2 in_dir = in_direction_px(sn);
        if (geom::norm(in_dir) > 0) {
          constexpr double kLen = 18;
          const Vec2 start = m - in_dir * (0.3 * kLen);
          const Vec2 tip = m + in_dir * kLen;
          s_ << "<g stroke=\"#ffffff\" stroke-width=\"5\">";
          line(s_, start, tip - in_dir * 6);
          s_ << "</g><g stroke=\"" << kSensorColour << "\" stroke-width=\"2.5\">";
          line(s_, start, tip - in_dir * 6);
          s_ << "</g>";
          arrow_head(s_, tip, in_dir, 9, kSensorColour);
        }
      } else {
        const Vec2 p = view_.px(sn.point);
        const bool density = sn.type == SensorType::density;
        s_ << "<circle cx=\"" << Num{p.x} << "\" cy=\"" << Num{p.y} << "\" r=\"5\" fill=\""
           << (density ? kSensorColour : "#ffffff") << "\" stroke=\""
           << (density ? "#ffffff" : kSensorColour) << "\" stroke-width=\""
           << (density ? "1.5" : "2.5") << "\"/>";
      }
      s_ << "</g>\n";
    }
  }

  Vec2 in_direction_px(const Sensor& sn) const {
    const Vec2 d = sn.line.b - sn.line.a;
    const Vec2 n = left_normal(d);  // venue coordinates (y north)
    return geom::normalized(Vec2{n.x, -n.y});
  }

  std::string sensor_tooltip(const Sensor& sn) const {
    std::string t = "sensor " + sn.id;
    if (!sn.name.empty()) t += " (" + sn.name + ")";
    t += ": ";
    t += to_string(sn.type);
    if (sn.type == SensorType::line_counter) {
      if (!sn.into.empty()) t += ", in = into " + sn.into;
      if (!sn.from.empty()) t += " from " + sn.from;
    } else if (!sn.zone.empty()) {
      t += ", zone " + sn.zone;
    }
    return t;
  }

  // The pixel direction pointing away from walkable space across the opening.
  Vec2 outward_px(const Segment& seg) const {
    const Vec2 n = left_normal(seg.b - seg.a);
    Vec2 out = n;
    const MultiPolygon* w = walkable_shape();
    if (w != nullptr) {
      const double eps = std::max(0.3, 6 / view_.scale);
      const Vec2 m = seg.midpoint();
      const bool left_in = inside_any(*w, m + n * eps);
      const bool right_in = inside_any(*w, m - n * eps);
      if (left_in && !right_in) out = n * -1.0;
    }
    return geom::normalized(Vec2{out.x, -out.y});
  }

  // A label of an exit, door, stair or sensor, in pixels.
  struct Label {
    Vec2 at;  // the text's anchor point on its baseline
    double font = 10;
    const char* anchor = "start";
    std::string text;
    std::string attrs;  // extra attributes (fill, font-weight)
    bool bold = false;
    bool rotated = false;  // turned 90° anticlockwise about `at`
  };

  static Box label_box(const Label& l) {
    const double w = text_width_px(l.text, l.font) * (l.bold ? 1.1 : 1.0);
    double x0 = l.at.x;
    if (std::string_view(l.anchor) == "middle") {
      x0 -= w / 2;
    } else if (std::string_view(l.anchor) == "end") {
      x0 -= w;
    }
    Box b;
    if (l.rotated) {  // about `at`: x runs upwards
      b.extend(Vec2{l.at.x - 0.8 * l.font, l.at.y - (x0 + w - l.at.x)});
      b.extend(Vec2{l.at.x + 0.25 * l.font, l.at.y - (x0 - l.at.x)});
    } else {
      b.extend(Vec2{x0, l.at.y - 0.8 * l.font});
      b.extend(Vec2{x0 + w, l.at.y + 0.25 * l.font});
    }
    return b;
  }

  void draw_label(const Label& l) {
    std::string attrs = l.attrs;
    if (l.bold) attrs += " font-weight=\"bold\"";
    if (l.rotated) {
      Svg t;
      t << " transform=\"rotate(-90 " << l.at << ")\"";
      attrs += t.take();
    }
    if (!attrs.empty() && attrs.front() == ' ') attrs.erase(0, 1);
    text(s_, l.at, l.font, l.anchor, l.text, attrs);
    s_ << '\n';
  }

  Label beside(Vec2 p, Vec2 side, double offset_px, double font, std::string t, std::string attrs,
               bool bold = false) const {
    const Placed pl = place_beside(p, side, offset_px, font);
    return Label{pl.at, font, pl.anchor, std::move(t), std::move(attrs), bold};
  }

  // The labels of exits, doors, stairs and sensors on this level (zones are labelled inside).
  std::vector<Label> feature_labels() const {
    std::vector<Label> out;
    if (!opt_.labels) return out;
    for (const Stair& st : venue_.stairs) stair_label(st, out);
    for (const Opening& e : venue_.exits) {
      if (e.level != opt_.level) continue;
      const bool closed = is_closed(e.id);
      std::string t = e.id + " (" + format_fixed(e.width_m, 1) + " m)";
      if (closed) t += " closed";
      out.push_back(beside(view_.px(e.line.midpoint()), outward_px(e.line), 10, 13, t,
                           closed ? "fill=\"#b91c1c\"" : "fill=\"#0f6b31\"", true));
    }
    std::vector<ZoneLabel> zone_boxes;
    for (const Opening& d : venue_.doors) {
      if (d.level != opt_.level) continue;
      if (zone_boxes.empty()) zone_boxes = zone_labels();
      std::string t = d.id;
      if (is_closed(d.id)) t += " closed";
      const char* fill = is_closed(d.id) ? "fill=\"#b91c1c\"" : "fill=\"#8a4b00\"";
      // On the side of the door that keeps clear of the zone labels, and otherwise on the
      // roomier side (into the room rather than into the corridor).
      const Vec2 m = view_.px(d.line.midpoint());
      const Vec2 n = left_normal(d.line.b - d.line.a);
      double best_score = INFINITY;
      Label best;
      for (const double sign : {1.0, -1.0}) {
        Label cand = beside(m, Vec2{n.x * sign, -n.y * sign}, 7, 10, t, fill);
        const Box b = label_box(cand);
        const bool hits = std::any_of(zone_boxes.begin(), zone_boxes.end(),
                                      [&](const ZoneLabel& z) { return z.box.intersects(b); });
        const double score = (hits ? 1000.0 : 0.0) - room_along(d.line.midpoint(), n * sign, 20);
        if (score < best_score) {
          best_score = score;
          best = std::move(cand);
        }
      }
      out.push_back(std::move(best));
    }
    for (const Sensor& sn : venue_.sensors) {
      if (sn.level != opt_.level) continue;
      if (sn.type == SensorType::line_counter) {
        // Beyond the line's second end, clear of the arrow and of the opening's own label.
        const Vec2 a = view_.px(sn.line.a);
        const Vec2 b = view_.px(sn.line.b);
        const Vec2 along = geom::norm(b - a) > 0 ? b - a : Vec2{1, 0};
        out.push_back(beside(b, along, 5, 10, sn.id, "fill=\"#1e3a8a\""));
      } else {
        out.push_back(beside(view_.px(sn.point), {1, 0}, 8, 10, sn.id, "fill=\"#1e3a8a\""));
      }
    }
    return out;
  }

  // How far (m, at most max_m) one can walk from p straight along the unit vector dir on
  // walkable floor without passing another door.
  double room_along(Vec2 p, Vec2 dir, double max_m) const {
    const MultiPolygon* w = walkable_shape();
    if (w == nullptr) return 0;
    for (const Opening& o : venue_.doors) {
      if (o.level != opt_.level) continue;
      const Vec2 s = o.line.b - o.line.a;
      const double denom = geom::cross(dir, s);
      if (std::abs(denom) < 1e-12) continue;
      const double t = geom::cross(o.line.a - p, s) / denom;    // along the ray
      const double u = geom::cross(o.line.a - p, dir) / denom;  // along the door
      if (t > 0.05 && u >= 0 && u <= 1) max_m = std::min(max_m, t);
    }
    constexpr double kStep = 0.25;
    double d = kStep;
    while (d <= max_m && inside_any(*w, p + dir * d)) d += kStep;
    return std::min(d - kStep, max_m);
  }

  void stair_label(const Stair& st, std::vector<Label>& out) const {
    std::string t;
    if (st.from_level == opt_.level && st.to_level != opt_.level) {
      t = st.id + " \u2191 to level " + std::to_string(st.to_level);
    } else if (st.to_level == opt_.level && st.from_level != opt_.level) {
      t = st.id + " \u2193 from level " + std::to_string(st.from_level);
    } else if (st.to_level == opt_.level) {
      t = st.id;
    } else {
      return;
    }
    const Box b = geom::bounds(st.footprint);
    if (b.empty()) return;
    const Vec2 c = view_.px(label_point(st.footprint));
    const double w_px = b.width() * view_.scale;
    const double h_px = b.height() * view_.scale;
    // Inside the footprint when it fits, otherwise outside it.
    for (const double font : {11.0, 10.0}) {
      if (text_width_px(t, font) + 6 <= w_px && 1.6 * font <= h_px) {
        out.push_back(Label{{c.x, c.y + 0.35 * font}, font, "middle", t, "fill=\"#111\""});
        return;
      }
    }
    // Candidates: beyond the top edge, beyond the bottom edge, right and left of the footprint;
    // the one covering the least walkable floor wins.
    std::vector<Label> candidates;
    const Vec2 bottom = st.bottom.midpoint();
    const Vec2 top = st.top.midpoint();
    const Vec2 up = geom::normalized(top - bottom);
    if (geom::norm(up) > 0) {
      candidates.push_back(beside(view_.px(top), Vec2{up.x, -up.y}, 8, 11, t, "fill=\"#111\""));
      candidates.push_back(beside(view_.px(bottom), Vec2{-up.x, up.y}, 8, 11, t, "fill=\"#111\""));
    }
    const double mid_y = 0.5 * (b.min.y + b.max.y);
    candidates.push_back(beside(view_.px({b.max.x, mid_y}), {1, 0}, 6, 11, t, "fill=\"#111\""));
    candidates.push_back(beside(view_.px({b.min.x, mid_y}), {-1, 0}, 6, 11, t, "fill=\"#111\""));
    const MultiPolygon* w = walkable_shape();
    std::size_t best = 0;
    int best_cover = std::numeric_limits<int>::max();
    for (std::size_t i = 0; i < candidates.size() && w != nullptr; ++i) {
      const Box box = label_box(candidates[i]);
      int cover = 0;
      for (int j = 0; j <= 2; ++j) {
        for (int k = 0; k <= 4; ++k) {
          const Vec2 q =
              view_.metres({box.min.x + box.width() * k / 4, box.min.y + box.height() * j / 2});
          if (inside_any(*w, q)) ++cover;
        }
      }
      if (cover < best_cover) {
        best_cover = cover;
        best = i;
      }
    }
    out.push_back(candidates[best]);
  }

  void labels() {
    s_ << "<g class=\"labels\" fill=\"#1f1f1f\" stroke=\"#ffffff\" stroke-width=\"3\" "
          "stroke-linejoin=\"round\" paint-order=\"stroke\">\n";
    for (const ZoneLabel& l : zone_labels()) draw_zone_label(l);
    for (const Label& l : feature_labels()) draw_label(l);
    s_ << "</g>\n";
  }

  // Moves a label centred at c (half sizes hx × hy along its text, turned 90° if `rotated`) off
  // the point sensors of the level and their labels, staying inside `zone` (metres) if it can.
  Vec2 clear_of_sensors(Vec2 c, double hx, double hy, bool rotated, const Box& zone) const {
    if (rotated) std::swap(hx, hy);
    std::vector<Box> keep_out;
    for (const Sensor& sn : venue_.sensors) {
      if (sn.level != opt_.level || sn.type == SensorType::line_counter) continue;
      const Vec2 p = view_.px(sn.point);
      Box k;
      k.extend(p - Vec2{7, 7});
      k.extend(p + Vec2{7 + (opt_.labels ? 8 + text_width_px(sn.id, 10) : 0), 7});
      keep_out.push_back(k);
    }
    const auto box_at = [&](Vec2 q) {
      Box b;
      b.extend(q - Vec2{hx, hy});
      b.extend(q + Vec2{hx, hy});
      return b;
    };
    const auto clear = [&](Vec2 q) {
      const Box b = box_at(q);
      return std::none_of(keep_out.begin(), keep_out.end(),
                          [&](const Box& k) { return k.intersects(b); });
    };
    if (clear(c)) return c;
    Box inside;
    inside.extend(view_.px(zone.min));
    inside.extend(view_.px(zone.max));
    for (const Box& k : keep_out) {
      if (!k.intersects(box_at(c))) continue;
      for (const Vec2 q : {Vec2{c.x, k.min.y - hy - 2}, Vec2{c.x, k.max.y + hy + 2},
                           Vec2{k.min.x - hx - 2, c.y}, Vec2{k.max.x + hx + 2, c.y}}) {
        const Box b = box_at(q);
        if (clear(q) && inside.contains(b.min) && inside.contains(b.max)) return q;
      }
    }
    return c;
  }

  struct ZoneLabel {
    Vec2 at;  // centre, pixels
    double font = 0;
    bool rotated = false;
    std::string name;
    std::string capacity;
    Box box;  // pixels
  };

  // The label of a zone, or nothing when the zone is too small for a readable one.
  std::optional<ZoneLabel> zone_label(const Zone& z) const {
    const Box b = geom::bounds(z.polygon);
    if (b.empty()) return std::nullopt;
    ZoneLabel l;
    l.name = z.name.empty() ? z.id : z.name;
    l.capacity = "capacity " + format_count(z.capacity);
    const Vec2 at = label_point(z.polygon);
    const AxisRoom room = axis_room(z.polygon, at);
    const double w_px = std::min(2 * std::min(room.west, room.east), b.width()) * view_.scale;
    const double h_px = std::min(2 * std::min(room.south, room.north), b.height()) * view_.scale;
    const double longest = std::max(text_width_px(l.name, 1) * 1.1, text_width_px(l.capacity, 1));
    const auto fit = [&](double along_px, double across_px) {
      return std::min({0.85 * along_px / std::max(longest, 2.4), 0.7 * across_px / 2.4, 16.0});
    };
    l.font = fit(w_px, h_px);
    if (l.font < 10 && fit(h_px, w_px) > 1.25 * l.font) {  // a tall narrow zone: write along it
      l.font = fit(h_px, w_px);
      l.rotated = true;
    }
    if (l.font < 7) return std::nullopt;  // too small to read
    double hx = 0.5 * longest * l.font + 2;
    double hy = 1.1 * l.font + 2;
    l.at = clear_of_sensors(view_.px(at), hx, hy, l.rotated, b);
    if (l.rotated) std::swap(hx, hy);
    l.box.extend(l.at - Vec2{hx, hy});
    l.box.extend(l.at + Vec2{hx, hy});
    return l;
  }

  std::vector<ZoneLabel> zone_labels() const {
    std::vector<ZoneLabel> out;
    if (!opt_.labels) return out;
    for (const Zone& z : venue_.zones)
      if (z.level == opt_.level)
        if (auto l = zone_label(z)) out.push_back(std::move(*l));
    return out;
  }

  void draw_zone_label(const ZoneLabel& l) {
    // Two lines centred on the label point.
    s_ << "<text x=\"" << Num{l.at.x} << "\" y=\"" << Num{l.at.y - 0.25 * l.font}
       << "\" font-size=\"" << Num{l.font} << "\" text-anchor=\"middle\"";
    if (l.rotated) s_ << " transform=\"rotate(-90 " << l.at << ")\"";
    s_ << "><tspan font-weight=\"bold\">" << Esc{l.name} << "</tspan><tspan x=\"" << Num{l.at.x}
       << "\" dy=\"" << Num{1.2 * l.font} << "\">" << Esc{l.capacity} << "</tspan></text>\n";
  }

  void title() {
    s_ << "<g class=\"title\">";
    text(s_, {kSidePx, 34}, 22, "start", title_text(), "font-weight=\"bold\" fill=\"#111\"");
    text(s_, {kSidePx, 58}, 13, "start", subtitle(), "fill=\"#555\"");
    s_ << "</g>\n";
  }

  std::string subtitle() const {
    std::string t;
    if (level_ == nullptr) {
      t = "no walkable space on this level";
    } else {
      t = "walkable " + format_count(level_->walkable_area_m2) + " m\u00b2";
    }
    int exits = 0;
    double width = 0;
    for (const Opening& e : venue_.exits) {
      if (e.level != opt_.level) continue;
      ++exits;
      if (!is_closed(e.id)) width += e.width_m;
    }
    t += " \u00b7 " + std::to_string(exits) + (exits == 1 ? " exit" : " exits");
    if (exits > 0) t += " (" + format_fixed(width, 1) + " m open width)";
    double capacity = 0;
    int zones = 0;
    for (const Zone& z : venue_.zones) {
      if (z.level != opt_.level) continue;
      ++zones;
      capacity += z.capacity;
    }
    if (zones > 0) t += " \u00b7 zone capacity " + format_count(capacity);
    if (closed_ != nullptr && !closed_->empty()) {
      t += " \u00b7 closed:";
      for (const std::string& id : *closed_) t += " " + id;
    }
    return t;
  }

  void north_arrow() {
    const double x = width_ - kSidePx - 12;
    const double y0 = 18;
    s_ << "<g class=\"north\"><path d=\"M" << Vec2{x, y0} << ' ' << Vec2{x + 9, y0 + 30} << ' '
       << Vec2{x, y0 + 23} << ' ' << Vec2{x - 9, y0 + 30} << "Z\" fill=\"#222\"/>";
    text(s_, {x, y0 + 46}, 13, "middle", "N", "font-weight=\"bold\" fill=\"#222\"");
    s_ << "</g>\n";
  }

  void footer() {
    const double fy = kHeaderPx + view_.box.height() * view_.scale;
    scale_bar(kSidePx, fy + 30);
    key(kSidePx, fy + 86);
    if (opt_.field != nullptr)
      draw_legend(s_, field_, width_ - kSidePx - kLegendWidthPx - 14, fy + 22);
  }

  void scale_bar(double x0, double y0) {
    const double metres = nice_floor(std::min(220.0, 0.3 * (width_ - 2 * kSidePx)) / view_.scale);
    const double len = metres * view_.scale;
    constexpr double kH = 6;
    s_ << "<g class=\"scale\">";
    s_ << "<rect x=\"" << Num{x0} << "\" y=\"" << Num{y0} << "\" width=\"" << Num{len / 2}
       << "\" height=\"" << Num{kH} << "\" fill=\"#222\"/>";
    s_ << "<rect x=\"" << Num{x0} << "\" y=\"" << Num{y0} << "\" width=\"" << Num{len}
       << "\" height=\"" << Num{kH} << "\" fill=\"none\" stroke=\"#222\" stroke-width=\"1\"/>";
    text(s_, {x0, y0 - 5}, 11, "middle", "0", "fill=\"#222\"");
    text(s_, {x0 + len / 2, y0 - 5}, 11, "middle", format_fixed(metres / 2, 1), "fill=\"#222\"");
    text(s_, {x0 + len, y0 - 5}, 11, "middle", format_fixed(metres, 1) + " m", "fill=\"#222\"");
    s_ << "</g>\n";
  }

  enum class KeyItem {
    exit,
    door,
    closed,
    stair,
    zone,
    obstacle,
    hazard,
    counter,
    zone_counter,
    density
  };

  // The symbols present on this level, with their captions.
  std::vector<std::pair<KeyItem, const char*>> key_items() const {
    const int lv = opt_.level;
    const auto any = [](const auto& items, auto pred) {
      return std::any_of(items.begin(), items.end(), pred);
    };
    std::vector<std::pair<KeyItem, const char*>> out;
    if (any(venue_.exits, [&](const Opening& e) { return e.level == lv; }))
      out.emplace_back(KeyItem::exit, "exit (width)");
    if (any(venue_.doors, [&](const Opening& d) { return d.level == lv; }))
      out.emplace_back(KeyItem::door, "door");
    const auto closed_here = [&](const Opening& o) { return o.level == lv && is_closed(o.id); };
    if (any(venue_.exits, closed_here) || any(venue_.doors, closed_here))
      out.emplace_back(KeyItem::closed, "closed");
    if (any(venue_.stairs,
            [&](const Stair& st) { return st.from_level == lv || st.to_level == lv; }))
      out.emplace_back(KeyItem::stair, "stair (up)");
    if (any(venue_.zones, [&](const Zone& z) { return z.level == lv; }))
      out.emplace_back(KeyItem::zone, "zone");
    if (level_ != nullptr && !level_->obstacles.empty())
      out.emplace_back(KeyItem::obstacle, "obstacle");
    if (opt_.field != nullptr &&
        any(opt_.field->options().hazards, [&](const Hazard& h) { return h.level == lv; }))
      out.emplace_back(KeyItem::hazard, "hazard");
    const auto sensor_of = [&](SensorType t) {
      return [&, t](const Sensor& sn) { return sn.level == lv && sn.type == t; };
    };
    if (any(venue_.sensors, sensor_of(SensorType::line_counter)))
      out.emplace_back(KeyItem::counter, "line counter (arrow = in)");
    if (any(venue_.sensors, sensor_of(SensorType::zone_counter)))
      out.emplace_back(KeyItem::zone_counter, "zone counter");
    if (any(venue_.sensors, sensor_of(SensorType::density)))
      out.emplace_back(KeyItem::density, "density sensor");
    return out;
  }

  static double key_item_width(const char* caption) { return 28 + text_width_px(caption, 11) + 18; }

  // How many rows the key needs at this width.
  int key_rows() const {
    int rows = 1;
    double x = kSidePx;
    for (const auto& [item, caption] : key_items()) {
      const double w = key_item_width(caption);
      if (x > kSidePx && x + w > width_ - kSidePx) {
        ++rows;
        x = kSidePx;
      }
      x += w;
    }
    return rows;
  }

  // The key of the symbols present on this level, wrapped into rows.
  void key(double x0, double y0) {
    s_ << "<g class=\"key\" font-size=\"11\" fill=\"#333\">";
    double x = x0;
    double y = y0;
    const auto swatch_line = [&](const char* colour, double w, const char* dash) {
      s_ << "<g stroke=\"" << colour << "\" stroke-width=\"" << Num{w} << '"' << dash << '>';
      line(s_, {x, y}, {x + 22, y});
      s_ << "</g>";
    };
    const auto swatch_rect = [&](std::string_view attrs) {
      s_ << "<rect x=\"" << Num{x} << "\" y=\"" << Num{y - 7} << "\" width=\"22\" height=\"14\" "
         << attrs << "/>";
    };
    for (const auto& [item, caption] : key_items()) {
      const double w = key_item_width(caption);
      if (x > x0 && x + w > width_ - kSidePx) {
        x = x0;
        y += kKeyRowPx;
      }
      switch (item) {
        case KeyItem::exit:
          swatch_line(kExitColour, 7, "");
          break;
        case KeyItem::door:
          swatch_line(kDoorColour, 4, "");
          break;
        case KeyItem::closed:
          swatch_line(kClosedColour, 5, " stroke-dasharray=\"4 3\"");
          break;
        case KeyItem::stair:
          swatch_rect(std::string("fill=\"#fafafa\" stroke=\"") + kStairColour + "\"");
          s_ << "<g stroke=\"" << kStairColour << "\" stroke-width=\"0.8\">";
          for (int i = 1; i < 5; ++i) line(s_, {x + 4.4 * i, y - 7}, {x + 4.4 * i, y + 7});
          s_ << "</g>";
          arrow_head(s_, {x + 22, y}, {1, 0}, 7, kStairColour);
          break;
        case KeyItem::zone:
          swatch_rect(std::string("fill=\"") + kZoneColours[0] +
                      "\" fill-opacity=\"0.14\" stroke=\"" + kZoneColours[0] +
                      "\" stroke-dasharray=\"5 3\"");
          break;
        case KeyItem::obstacle:
          swatch_rect(std::string("fill=\"") + kObstacleFill + "\"");
          break;
        case KeyItem::hazard:
          swatch_rect(std::string("fill=\"url(#hazard)\" stroke=\"") + kClosedColour + "\"");
          break;
        case KeyItem::counter:
          s_ << "<g stroke=\"" << kSensorColour << "\" stroke-width=\"2.5\">";
          line(s_, {x, y + 5}, {x + 22, y + 5});
          line(s_, {x + 11, y + 5}, {x + 11, y - 2});
          s_ << "</g>";
          arrow_head(s_, {x + 11, y - 8}, {0, -1}, 7, kSensorColour);
          break;
        case KeyItem::zone_counter:
          s_ << "<circle cx=\"" << Num{x + 11} << "\" cy=\"" << Num{y}
             << "\" r=\"5\" fill=\"#ffffff\" stroke=\"" << kSensorColour
             << "\" stroke-width=\"2.5\"/>";
          break;
        case KeyItem::density:
          s_ << "<circle cx=\"" << Num{x + 11} << "\" cy=\"" << Num{y} << "\" r=\"5\" fill=\""
             << kSensorColour << "\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>";
          break;
      }
      text(s_, {x + 28, y + 4}, 11, "start", caption);
      x += w;
    }
    s_ << "</g>\n";
  }

  const Venue& venue_;
  const RenderOptions& opt_;
  const Level* level_ = nullptr;
  const std::set<std::string>* closed_ = nullptr;
  Svg s_;
  View view_;
  int width_ = 1200;
  int height_ = 0;
  FieldShade field_;
};

}  // namespace

std::string render_svg(const Venue& venue, const RenderOptions& opt) {
  return Renderer(venue, opt).run();
}

}  // namespace vigil::venue
