// SPDX-License-Identifier: Apache-2.0
#include "sim/virtual_sensors.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vigil::sim {

namespace {

// +1: p is left of the directed line a->b; -1: right of it or on it.
int side(const geom::Segment& s, Vec2 p) { return geom::cross(s.b - s.a, p - s.a) > 0 ? 1 : -1; }

bool crosses(const geom::Segment& s, Vec2 p, Vec2 q) {
  if (side(s, p) == side(s, q)) return false;
  const int sa = geom::cross(q - p, s.a - p) > 0 ? 1 : -1;
  const int sb = geom::cross(q - p, s.b - p) > 0 ? 1 : -1;
  return sa != sb;
}

}  // namespace

VirtualSensors::VirtualSensors(const venue::Venue& venue, double frame_time_s,
                               VirtualSensorOptions options)
    : venue_(venue),
      frame_time_s_(frame_time_s),
      opt_(std::move(options)),
      rng_(mix_seed(opt_.seed, 0x5e75)) {
  if (!(frame_time_s_ > 0)) throw std::invalid_argument("VirtualSensors: frame_time_s must be > 0");
  if (!(opt_.period_s > 0)) throw std::invalid_argument("VirtualSensors: period_s must be > 0");
  for (double r : {opt_.miss_rate, opt_.extra_rate})
    if (!(r >= 0 && r <= 1))
      throw std::invalid_argument("VirtualSensors: miss_rate and extra_rate must be in [0, 1]");
  if (!(opt_.count_sigma_rel >= 0) || !(opt_.density_sigma_rel >= 0))
    throw std::invalid_argument("VirtualSensors: noise sigmas must be >= 0");
  const std::size_t n = venue_.sensors.size();
  pending_in_.assign(n, 0);
  pending_out_.assign(n, 0);
  true_in_.assign(n, 0);
  true_out_.assign(n, 0);
  seq_.assign(n, opt_.first_seq);
  dropout_s_.assign(n, std::numeric_limits<double>::infinity());
  for (const SensorDropout& d : opt_.dropouts) {
    bool found = false;
    for (std::size_t s = 0; s < n; ++s) {
      if (venue_.sensors[s].id != d.sensor) continue;
      dropout_s_[s] = std::min(dropout_s_[s], d.from_s);
      found = true;
    }
    if (!found)
      throw std::invalid_argument("VirtualSensors: dropout of unknown sensor \"" + d.sensor + "\"");
  }
  zone_persons_.assign(venue_.zones.size(), 0);
}

bool VirtualSensors::dropped(std::size_t sensor, double t_s) const {
  return t_s + 1e-9 >= dropout_s_[sensor];
}

void VirtualSensors::count_move(Vec2 p, Vec2 q, int level) {
  for (std::size_t s = 0; s < venue_.sensors.size(); ++s) {
    const venue::Sensor& sensor = venue_.sensors[s];
    if (sensor.type != venue::SensorType::line_counter || sensor.level != level) continue;
    if (!crosses(sensor.line, p, q)) continue;
    const bool in = side(sensor.line, p) < 0;  // right to left
    (in ? true_in_ : true_out_)[s] += 1;
    double counted = rng_.uniform01() < opt_.miss_rate ? 0 : 1;
    if (rng_.uniform01() < opt_.extra_rate) counted += 1;
    (in ? pending_in_ : pending_out_)[s] += counted;
  }
}

void VirtualSensors::frame(std::int64_t frame, const std::vector<FrameAgent>& agents) {
  const double t = static_cast<double>(frame) * frame_time_s_;
  for (const FrameAgent& a : agents) {
    auto [it, fresh] = tracks_.try_emplace(a.id);
    Track& tr = it->second;
    if (!fresh && tr.level == a.level && (tr.x != a.x || tr.y != a.y))
      count_move({tr.x, tr.y}, {a.x, a.y}, a.level);
    tr.x = a.x;
    tr.y = a.y;
    tr.level = a.level;
    tr.seen = frame;
  }
  // People gone since the last frame left through an exit: finish their last step through the
  // nearest exit of their level, so that a counter just inside an exit sees them.
  std::vector<std::int64_t> gone;
  for (const auto& [id, tr] : tracks_)
    if (tr.seen != frame) gone.push_back(id);
  std::sort(gone.begin(), gone.end());
  for (std::int64_t id : gone) {
    const Track& tr = tracks_.at(id);
    const Vec2 p{tr.x, tr.y};
    const venue::Opening* best = nullptr;
    double best_d = std::numeric_limits<double>::infinity();
    for (const venue::Opening& e : venue_.exits) {
      if (e.level != tr.level) continue;
      const double d = geom::distance(p, e.line);
      if (d < best_d) {
        best_d = d;
        best = &e;
      }
    }
    if (best) {
      const Vec2 c = geom::closest_point(best->line, p);
      const Vec2 dir = geom::normalized(c - p);
      count_move(p, c + dir * 0.3, tr.level);
    }
    tracks_.erase(id);
  }
  // Persons per zone.
  std::fill(zone_persons_.begin(), zone_persons_.end(), 0.0);
  for (const FrameAgent& a : agents) {
    for (std::size_t z = 0; z < venue_.zones.size(); ++z) {
      const venue::Zone& zone = venue_.zones[z];
      if (zone.level == a.level && geom::contains(zone.polygon, {a.x, a.y})) zone_persons_[z] += 1;
    }
  }
  last_t_s_ = t;
  if (t + 1e-9 >= next_report_s_) {
    report(t);
    while (next_report_s_ <= t + 1e-9) next_report_s_ += opt_.period_s;
  }
}

void VirtualSensors::report(double t_s) {
  const std::int64_t ts = opt_.start_ms + std::llround(t_s * 1000);
  for (std::size_t s = 0; s < venue_.sensors.size(); ++s) {
    const venue::Sensor& sensor = venue_.sensors[s];
    if (dropped(s, t_s)) {
      pending_in_[s] = pending_out_[s] = 0;
      continue;
    }
    VirtualReading r;
    r.sensor = sensor.id;
    r.seq = seq_[s]++;
    r.ts_ms = ts;
    if (sensor.type == venue::SensorType::line_counter) {
      r.kind = VirtualReading::Kind::in_out;
      r.in = pending_in_[s];
      r.out = pending_out_[s];
      pending_in_[s] = pending_out_[s] = 0;
    } else {
      double persons = 0;
      double area_m2 = 0;
      for (std::size_t z = 0; z < venue_.zones.size(); ++z)
        if (venue_.zones[z].id == sensor.zone) {
          persons = zone_persons_[z];
          area_m2 = venue_.zones[z].area_m2;
        }
      if (sensor.type == venue::SensorType::zone_counter) {
        r.kind = VirtualReading::Kind::count;
        const double noisy =
            persons +
            (opt_.count_sigma_rel > 0 ? rng_.normal() * opt_.count_sigma_rel * persons : 0);
        r.count = std::max(0.0, std::round(noisy));
      } else {
        r.kind = VirtualReading::Kind::density;
        const double d = area_m2 > 0 ? persons / area_m2 : 0;
        r.density = std::max(
            0.0, d + (opt_.density_sigma_rel > 0 ? rng_.normal() * opt_.density_sigma_rel * d : 0));
      }
    }
    readings_.push_back(std::move(r));
  }
  truth_.push_back({ts, zone_persons_, true_in_, true_out_});
  last_report_s_ = t_s;
}

void VirtualSensors::finish() {
  if (last_t_s_ <= last_report_s_) return;
  bool pending = false;
  for (std::size_t s = 0; s < pending_in_.size(); ++s)
    pending = pending || pending_in_[s] > 0 || pending_out_[s] > 0;
  if (pending) report(last_t_s_);
}

}  // namespace vigil::sim
