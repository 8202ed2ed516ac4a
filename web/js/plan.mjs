// SPDX-License-Identifier: Apache-2.0
// A venue level as SVG from the venue GeoJSON (local metres, x east, y north: y is flipped),
// with zones coloured by level of service, sensors by health and exits with widths and use.

import { s } from './dom.mjs';
import { fmtInt, fmt1, fmt2, fmtDuration, fmtTime, fmtTrend, humanise } from './format.mjs';

/** Level of service, A (free) to F (critical). Colours pass 3:1 against the plan background. */
export const LOS = [
  ['A', 'free flow', '#2e8b57'],
  ['B', 'minor conflicts', '#6a9f2a'],
  ['C', 'restricted', '#b59a00'],
  ['D', 'crowded', '#d07a10'],
  ['E', 'very crowded', '#d9480f'],
  ['F', 'critical', '#c01c3c'],
];
export const NO_DATA = '#3a4450';
export const SENSOR_STATUS = [
  ['ok', 'reporting', '#3fb950'],
  ['stale', 'stale (no recent reading)', '#e3b341'],
  ['silent', 'silent', '#8b949e'],
  ['implausible', 'implausible: check it', '#d2a8ff'],
];
const losColour = Object.fromEntries(LOS.map(([k, , c]) => [k, c]));
const sensorColour = Object.fromEntries(SENSOR_STATUS.map(([k, , c]) => [k, c]));

const r2 = (v) => Math.round(v * 100) / 100;
const pt = ([x, y]) => `${r2(x)},${r2(-y)}`;
const ringPath = (ring) => `M${ring.map(pt).join('L')}Z`;
const polyPath = (geom) => {
  if (geom.type === 'Polygon') return geom.coordinates.map(ringPath).join('');
  if (geom.type === 'MultiPolygon') return geom.coordinates.flat().map(ringPath).join('');
  return '';
};

function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a / 2;
}

function centroid(ring) {
  let a = 0, cx = 0, cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    a += f;
    cx += (ring[j][0] + ring[i][0]) * f;
    cy += (ring[j][1] + ring[i][1]) * f;
  }
  if (Math.abs(a) < 1e-9) return ring[0];
  return [cx / (3 * a), cy / (3 * a)];
}

function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inGeom(p, geom) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.type === 'MultiPolygon' ? geom.coordinates : [];
  return polys.some((rings) => inRing(p, rings[0]) && !rings.slice(1).some((h) => inRing(p, h)));
}

function segDist([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax, dy = by - ay;
  const l2 = dx * dx + dy * dy;
  const u = l2 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0;
  return Math.hypot(px - (ax + u * dx), py - (ay + u * dy));
}

/** A point well inside a polygon for its label (grid search for the point farthest from the outline). */
function labelPoint(geom, ring) {
  const rings = geom.type === 'Polygon' ? geom.coordinates : geom.coordinates.flat();
  const [x0, y0, x1, y1] = bbox(ring);
  let best = null;
  let bestD = -1;
  const n = 24;
  for (let i = 0; i <= n; i++) {
    for (let j = 0; j <= n; j++) {
      const p = [x0 + ((x1 - x0) * (i + 0.5)) / (n + 1), y0 + ((y1 - y0) * (j + 0.5)) / (n + 1)];
      if (!inGeom(p, geom)) continue;
      let d = Infinity;
      for (const r of rings) for (let k = 1; k < r.length; k++) d = Math.min(d, segDist(p, r[k - 1], r[k]));
      // Prefer points near the centre of the box when nearly as deep.
      const c = Math.hypot(p[0] - (x0 + x1) / 2, p[1] - (y0 + y1) / 2) * 0.05;
      if (d - c > bestD) { bestD = d - c; best = p; }
    }
  }
  return { p: best || centroid(ring), depth: Math.max(bestD, 0) };
}

function bbox(ring) {
  const xs = ring.map((p) => p[0]);
  const ys = ring.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const onLevel = (f, level) => {
  const p = f.properties || {};
  if (p.kind === 'stair') return p.from_level === level || p.to_level === level;
  return (p.level ?? 0) === level;
};

export function levelsOf(doc) {
  if (doc.derived?.levels?.length) return doc.derived.levels.slice().sort((a, b) => a - b);
  const set = new Set();
  for (const f of doc.features || []) if (f.properties?.kind === 'area') set.add(f.properties.level ?? 0);
  return [...set].sort((a, b) => a - b);
}

export const zoneLabel = (doc, id) => {
  const f = (doc.features || []).find((x) => x.properties?.kind === 'zone' && x.properties.id === id);
  return f?.properties?.name || id;
};

/**
 * Build one level's plan. Returns { el, update(state), select(zoneId|null) }.
 * opts: { tz, onInspect(zoneId|null), onSelect(zoneId|null) }.
 */
export function createPlan(doc, level, opts = {}) {
  const feats = (doc.features || []).filter((f) => f.geometry && onLevel(f, level));
  const kind = (k) => feats.filter((f) => f.properties.kind === k);
  const derived = doc.derived || {};
  const areas = kind('area');

  // Extent over everything drawn on this level.
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  const grow = (c) => {
    if (typeof c[0] === 'number') {
      minx = Math.min(minx, c[0]); maxx = Math.max(maxx, c[0]);
      miny = Math.min(miny, c[1]); maxy = Math.max(maxy, c[1]);
    } else c.forEach(grow);
  };
  feats.forEach((f) => grow(f.geometry.coordinates));
  if (!Number.isFinite(minx)) { minx = 0; miny = 0; maxx = 10; maxy = 10; }
  const span = Math.max(maxx - minx, maxy - miny, 1);
  const unit = span / 60; // label size in metres
  const pad = unit * 6; // room for exit labels outside the walls
  const svg = s('svg.plan', {
    viewBox: `${r2(minx - pad)} ${r2(-maxy - pad)} ${r2(maxx - minx + 2 * pad)} ${r2(maxy - miny + 2 * pad)}`,
    role: 'group', 'aria-label': `Plan of level ${level}`, preserveAspectRatio: 'xMidYMid meet',
  });
  const layer = (name) => svg.appendChild(s(`g.layer-${name}`));
  const gAreas = layer('areas');
  const gObst = layer('obstacles');
  const gStairs = layer('stairs');
  const gZones = layer('zones');
  const gDoors = layer('doors');
  const gExits = layer('exits');
  const gSensors = layer('sensors');
  const gLabels = layer('labels');
  gLabels.setAttribute('aria-hidden', 'true');

  const labels = [];
  for (const f of areas) gAreas.append(s('path.area', { d: polyPath(f.geometry), 'fill-rule': 'evenodd' }));
  for (const f of kind('obstacle')) {
    gObst.append(s('path.obstacle', { d: polyPath(f.geometry), 'fill-rule': 'evenodd' },
      s('title', f.properties.name || 'Obstacle')));
  }
  for (const f of kind('stair')) {
    const p = f.properties;
    const g = s('g.stair', {}, s('title', `Stair ${p.id}${p.name ? ` (${p.name})` : ''}: level ${p.from_level} to ${p.to_level}`),
      s('path', { d: polyPath(f.geometry) }));
    const c = centroid(f.geometry.coordinates[0]);
    const t = s('text.stair-label', { x: r2(c[0]), y: r2(-c[1]), 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, p.id);
    g.append(t);
    labels.push({ kind: 'stair', label: t });
    gStairs.append(g);
  }

  // Zones: focusable, labelled; labels in a top layer that ignores the pointer. Label sizes are
  // set in screen pixels by layout() whenever the plan's size changes.
  const zones = new Map();
  for (const f of kind('zone')) {
    const p = f.properties;
    const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0]
      : f.geometry.coordinates.map((poly) => poly[0]).sort((a, b) => Math.abs(ringArea(b)) - Math.abs(ringArea(a)))[0];
    const title = s('title');
    const path = s('path', { d: polyPath(f.geometry), 'fill-rule': 'evenodd', fill: NO_DATA });
    const g = s('g.zone', { tabindex: 0, role: 'button', 'data-zone': p.id, 'aria-pressed': 'false' }, title, path);
    gZones.append(g);
    const [bx0, by0, bx1, by1] = bbox(ring);
    const { p: c, depth } = labelPoint(f.geometry, ring);
    const count = s('tspan.count', {}, '–');
    const los = s('tspan.los', {}, '');
    const label = s('text.zone-label', { x: r2(c[0]), 'text-anchor': 'middle', 'data-zone': p.id }, count, los);
    const nameEl = s('text.zone-name', { x: r2(c[0]), 'text-anchor': 'middle' }, p.name || p.id);
    gLabels.append(nameEl, label);
    labels.push({ kind: 'zone', label, nameEl, los, c, w: Math.min(bx1 - bx0, depth * 2.6 || Infinity), hgt: Math.min(by1 - by0, depth * 2.6 || Infinity) });
    const z = { id: p.id, name: p.name || p.id, use: p.use, g, path, title, count, los, data: null, derived: derived.zones?.[p.id] || {} };
    zones.set(p.id, z);
    g.addEventListener('focus', () => opts.onInspect?.(p.id));
    g.addEventListener('mouseenter', () => opts.onInspect?.(p.id));
    g.addEventListener('click', () => toggle(p.id));
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(p.id); }
      if (ev.key === 'Escape') { select(null); opts.onSelect?.(null); }
    });
  }

  const doors = new Map();
  for (const f of kind('door')) {
    const p = f.properties;
    const title = s('title', `Door ${p.id}${p.name ? ` (${p.name})` : ''}`);
    const line = s('path.door', { d: `M${f.geometry.coordinates.map(pt).join('L')}` }, title);
    gDoors.append(line);
    doors.set(p.id, { line, title, p });
  }

  const exits = new Map();
  for (const f of kind('exit')) {
    const p = f.properties;
    const [a, b] = f.geometry.coordinates;
    const width = derived.exits?.[p.id]?.width_m ?? Math.hypot(b[0] - a[0], b[1] - a[1]);
    const title = s('title');
    const g = s('g.exit', { 'data-exit': p.id }, title, s('path', { d: `M${pt(a)}L${pt(b)}` }));
    // Label on the side away from the walkable area.
    const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    const n = [-(b[1] - a[1]) / len, (b[0] - a[0]) / len];
    const probe = [mid[0] + n[0] * 0.5, mid[1] + n[1] * 0.5];
    const sign = areas.some((ar) => inGeom(probe, ar.geometry)) ? -1 : 1;
    const label = s('text.exit-label', { 'text-anchor': 'middle', 'dominant-baseline': 'middle' }, `${p.id} ${fmt1(width)} m`);
    labels.push({ kind: 'exit', label, mid, dir: [sign * n[0], sign * n[1]] });
    g.append(label);
    gExits.append(g);
    exits.set(p.id, { g, title, label, p, width });
  }

  const sensors = new Map();
  for (const f of kind('sensor')) {
    const p = f.properties;
    const title = s('title');
    let mark;
    if (f.geometry.type === 'Point') {
      const [x, y] = f.geometry.coordinates;
      mark = s('circle', { cx: r2(x), cy: r2(-y), r: r2(unit * 0.45) });
      labels.push({ kind: 'sensor', label: mark });
    } else {
      mark = s('path', { d: `M${f.geometry.coordinates.map(pt).join('L')}` });
    }
    const g = s(`g.sensor.sensor-${f.geometry.type === 'Point' ? 'point' : 'line'}`, { 'data-sensor': p.id, 'data-status': 'unknown' }, title, mark);
    gSensors.append(g);
    sensors.set(p.id, { g, mark, title, p });
  }

  // Sizes of labels and marks in screen pixels, whatever the plan's scale.
  const vb = svg.viewBox.baseVal;
  function layout() {
    const rect = svg.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const k = Math.max(vb.width / rect.width, vb.height / rect.height); // metres per pixel
    for (const l of labels) {
      if (l.kind === 'zone') {
        const fs = Math.max(Math.min(15 * k, l.w / 4, l.hgt / 2.2), 8 * k);
        const showName = l.w > fs * 7 && l.hgt > fs * 3.2;
        l.label.setAttribute('font-size', r2(fs));
        l.los.setAttribute('font-size', r2(fs * 0.8));
        l.label.setAttribute('y', r2(-l.c[1] + (showName ? fs * 0.95 : fs * 0.35)));
        l.nameEl.setAttribute('font-size', r2(fs * 0.8));
        l.nameEl.setAttribute('y', r2(-l.c[1] - fs * 0.35));
        l.nameEl.style.display = showName ? '' : 'none';
      } else if (l.kind === 'exit') {
        const fs = 11.5 * k;
        const off = fs * 2.2;
        l.label.setAttribute('font-size', r2(fs));
        l.label.setAttribute('x', r2(l.mid[0] + l.dir[0] * off * (Math.abs(l.dir[0]) > 0.5 ? 1.6 : 1)));
        l.label.setAttribute('y', r2(-(l.mid[1] + l.dir[1] * off)));
      } else if (l.kind === 'stair') {
        l.label.setAttribute('font-size', r2(11 * k));
      } else if (l.kind === 'sensor') {
        l.label.setAttribute('r', r2(4.5 * k));
      }
    }
  }
  new ResizeObserver(() => layout()).observe(svg);

  let selected = null;
  let lastState = null;
  function toggle(id) {
    select(selected === id ? null : id);
    opts.onSelect?.(selected);
  }
  function select(id) {
    selected = id && zones.has(id) ? id : null;
    for (const z of zones.values()) {
      z.g.classList.toggle('selected', z.id === selected);
      z.g.setAttribute('aria-pressed', String(z.id === selected));
    }
    const rec = new Set(selected ? lastState?.egress?.zones?.[selected] || [] : []);
    svg.classList.toggle('has-selection', !!selected && rec.size > 0);
    for (const e of exits.values()) e.g.classList.toggle('recommended', rec.has(e.p.id));
  }

  function zoneText(z) {
    const d = z.data;
    const cap = z.derived.capacity;
    if (!d) return `${z.name}: no reading yet${cap ? `; capacity ${fmtInt(cap)}` : ''}`;
    const rec = lastState?.egress?.zones?.[z.id];
    return `${z.name}: ${fmtInt(d.occupancy)} people` + (cap ? ` of ${fmtInt(cap)} (${fmt1(d.capacity_pct)} %)` : '')
      + `, ${fmt2(d.density_p_m2)} per m², level of service ${d.level_of_service || 'unknown'}`
      + `, trend ${fmtTrend(d.trend_p_per_min)}` + (rec?.length ? `; recommended exits ${rec.join(', ')}` : '');
  }

  function update(state) {
    lastState = state;
    const zs = state?.zones || {};
    for (const z of zones.values()) {
      z.data = zs[z.id] || null;
      const los = z.data?.level_of_service;
      z.path.setAttribute('fill', (los && losColour[los]) || NO_DATA);
      z.g.dataset.los = los || '';
      z.count.textContent = z.data ? fmtInt(z.data.occupancy) : '–';
      z.los.textContent = los ? ` ${los}` : '';
      const text = zoneText(z);
      z.title.textContent = text;
      z.g.setAttribute('aria-label', text);
      z.g.classList.toggle('over', (z.data?.capacity_pct ?? 0) >= 100);
    }
    const ss = state?.sensors || {};
    for (const sn of sensors.values()) {
      const st = ss[sn.p.id];
      const status = st?.status || 'unknown';
      sn.g.dataset.status = status;
      const colour = sensorColour[status] || '#8b949e';
      if (sn.mark.tagName === 'circle') sn.mark.setAttribute('fill', colour);
      sn.mark.setAttribute('stroke', colour);
      sn.title.textContent = `Sensor ${sn.p.id}${sn.p.name ? ` (${sn.p.name})` : ''}: ${humanise(sn.p.type)}, ${st ? humanise(status) : 'no status'}`
        + (st?.last_seen ? `, last reading ${fmtTime(st.last_seen, opts.tz)}` : '');
    }
    const eg = state?.egress || null;
    const zonesFor = {};
    for (const [zid, list] of Object.entries(eg?.zones || {})) for (const e of list) (zonesFor[e] ||= []).push(zid);
    for (const e of exits.values()) {
      const x = eg?.exits?.[e.p.id];
      e.g.classList.toggle('unused', !!eg && !x && !zonesFor[e.p.id]);
      e.title.textContent = `Exit ${e.p.id}${e.p.name ? ` (${e.p.name})` : ''}: ${fmt1(e.width)} m wide`
        + (x ? `; ${fmtInt(x.people)} people, clear in ${fmtDuration(x.clear_s)}` : '')
        + (zonesFor[e.p.id] ? `; recommended for ${zonesFor[e.p.id].join(', ')}` : '');
    }
    const bottlenecks = new Set(eg?.bottlenecks || []);
    for (const d of doors.values()) {
      d.line.classList.toggle('bottleneck', bottlenecks.has(d.p.id));
      d.title.textContent = `Door ${d.p.id}${d.p.name ? ` (${d.p.name})` : ''}${bottlenecks.has(d.p.id) ? ': bottleneck' : ''}`;
    }
    for (const e of exits.values()) e.g.classList.toggle('bottleneck', bottlenecks.has(e.p.id));
    select(selected);
  }

  /** A layer above the plan (under the labels) for the caller's marks, e.g. simulated people. */
  function overlay(name) {
    const g = s(`g.layer-${name}`, { 'aria-hidden': 'true' });
    svg.insertBefore(g, gLabels);
    return g;
  }

  // ---- freehand polygon drawing (a hazard's outline) ----
  // Pointer: click the corners, double-click (or Enter) to finish. Keyboard: the plan takes the
  // focus with a cursor at its centre; arrows move it by 1 m (Shift: 5 m), Space adds a corner,
  // Backspace removes the last one, Enter finishes, Escape cancels.
  let drawing = null;
  function toPlan(ev) {
    const m = svg.getScreenCTM();
    if (!m) return null;
    const q = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(m.inverse());
    return [r2(q.x), r2(-q.y)];
  }
  function startDrawing({ onChange = () => {}, onFinish = () => {}, onCancel = () => {} } = {}) {
    stopDrawing();
    const metresPerPx = () => {
      const rect = svg.getBoundingClientRect();
      return rect.width ? Math.max(vb.width / rect.width, vb.height / rect.height) : unit / 10;
    };
    const g = s('g.layer-draw');
    const catcher = s('rect.draw-catcher', {
      x: vb.x, y: vb.y, width: vb.width, height: vb.height, tabindex: 0, role: 'application',
      'aria-label': `Draw the hazard on level ${level}: arrows move the cursor, Space adds a corner, Backspace removes the last one, Enter finishes, Escape cancels`,
    });
    const shape = s('path.draw-shape');
    const rubber = s('path.draw-rubber');
    const dots = s('g.draw-dots');
    const cursor = s('circle.draw-cursor');
    g.append(catcher, shape, rubber, dots, cursor);
    svg.append(g);
    svg.classList.add('drawing');
    const pts = [];
    let cur = [r2(vb.x + vb.width / 2), r2(-(vb.y + vb.height / 2))];
    function redraw() {
      const k = metresPerPx();
      shape.setAttribute('d', pts.length ? `M${pts.map(pt).join('L')}${pts.length > 2 ? 'Z' : ''}` : '');
      shape.setAttribute('stroke-width', r2(2 * k));
      rubber.setAttribute('d', pts.length ? `M${pt(pts[pts.length - 1])}L${pt(cur)}` : '');
      rubber.setAttribute('stroke-width', r2(1.5 * k));
      cursor.setAttribute('cx', cur[0]);
      cursor.setAttribute('cy', -cur[1]);
      cursor.setAttribute('r', r2(5 * k));
      cursor.setAttribute('stroke-width', r2(1.5 * k));
      dots.replaceChildren(...pts.map((p) => s('circle', { cx: p[0], cy: -p[1], r: r2(3.5 * k) })));
      onChange(pts.slice());
    }
    function add(p) {
      if (!p) return;
      const last = pts[pts.length - 1];
      // The two clicks of a double-click land on one spot: one corner.
      if (last && Math.hypot(p[0] - last[0], p[1] - last[1]) < 4 * metresPerPx()) return;
      pts.push(p);
      redraw();
    }
    function finish() {
      if (pts.length < 3) { onChange(pts.slice(), 'A hazard needs at least 3 corners.'); return; }
      const done = pts.slice();
      stopDrawing();
      onFinish([...done, done[0]]);
    }
    function cancel() {
      stopDrawing();
      onCancel();
    }
    catcher.addEventListener('click', (ev) => { cur = toPlan(ev) || cur; add(cur); });
    catcher.addEventListener('dblclick', (ev) => { ev.preventDefault(); finish(); });
    catcher.addEventListener('pointermove', (ev) => { cur = toPlan(ev) || cur; redraw(); });
    catcher.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 5 : 1;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (moves[ev.key]) {
        cur = [r2(cur[0] + moves[ev.key][0]), r2(cur[1] + moves[ev.key][1])];
        redraw();
      } else if (ev.key === ' ' || ev.key === '+') add(cur);
      else if (ev.key === 'Backspace') { pts.pop(); redraw(); }
      else if (ev.key === 'Enter') finish();
      else if (ev.key === 'Escape') cancel();
      else return;
      ev.preventDefault();
      ev.stopPropagation();
    });
    drawing = { g, finish, cancel, undo: () => { pts.pop(); redraw(); } };
    redraw();
    catcher.focus({ preventScroll: true });
    return drawing;
  }
  function stopDrawing() {
    if (!drawing) return;
    drawing.g.remove();
    svg.classList.remove('drawing');
    drawing = null;
  }

  return {
    el: svg, update, select, zones, overlay, startDrawing, stopDrawing,
    isDrawing: () => !!drawing,
    zoneInfo: (id) => (zones.has(id) ? zoneText(zones.get(id)) : ''),
    /** Metres per screen pixel at the plan's current size. */
    metresPerPixel: () => {
      const rect = svg.getBoundingClientRect();
      return rect.width ? Math.max(vb.width / rect.width, vb.height / rect.height) : unit / 10;
    },
  };
}
