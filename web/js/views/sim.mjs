// SPDX-License-Identifier: Apache-2.0
// Evacuation simulations of a stored venue (POST /venues/{id}/simulations): choose the people,
// closed exits, model and routing; run it on the server and follow its progress; then play it
// back over the plan, level by level, with the evacuation curve and the flow through each exit.

import { h, s, replace, notice } from '../dom.mjs';
import { fmtInt, fmt1, fmtDuration, fmtTime, humanise } from '../format.mjs';
import { createPlan, levelsOf } from '../plan.mjs';
import { notAvailable } from '../ui.mjs';

export const title = 'Simulation';
const POLL_MS = 500;
const SPEEDS = [1, 5, 10, 30];
// Distinct on the dark background (flow lines per exit).
const COLOURS = ['#6cb6ff', '#3fb950', '#e3b341', '#ff8179', '#d2a8ff', '#56d4dd', '#f0883e', '#ff9bce',
  '#a5d6ff', '#b4e05a', '#ffd33d', '#c9a0ff'];

export async function mount(root, ctx, venueParam, simParam) {
  const body = h('div', h('p.muted', 'Loading…'));
  const head = h('div.view-head', h('h1', 'Simulation'));
  root.append(head, body);
  const timers = new Set();
  let disposed = false;
  let frameReq = 0;
  const cleanup = () => {
    disposed = true;
    for (const t of timers) clearTimeout(t);
    cancelAnimationFrame(frameReq);
  };

  let venues;
  try {
    await ctx.api.get('/simulations');
    venues = (await ctx.api.get('/venues')).venues || [];
  } catch (e) {
    replace(body, e.notAvailable
      ? notAvailable('Running simulations from the dashboard',
        h('p', 'Evacuation studies can be run today with the command line: ', h('code', 'vigil simulate SCENARIO.json --out DIR'),
          ', which writes a summary, per-second series and a self-contained report (docs/simulation.md).'))
      : notice('error', 'Could not load the simulations.', e.reason || e.message));
    return cleanup;
  }
  if (!venues.length) {
    replace(body, h('p.empty', 'Your token sees no venue to simulate.'));
    return cleanup;
  }
  const venueId = venueParam && venues.some((v) => v.id === venueParam) ? venueParam : venues[0].id;
  const enc = encodeURIComponent(venueId);
  let doc;
  try {
    doc = await ctx.venueDoc(venueId);
  } catch (e) {
    replace(body, notice('error', 'Could not load the venue.', e.reason || e.message));
    return cleanup;
  }
  const header = doc.vigil || {};
  const tz = header.timezone || undefined;
  const limit = header.egress_limit_s ?? 480;
  const can = ctx.who?.can || {};
  const zoneFeatures = (doc.features || []).filter((f) => f.properties?.kind === 'zone');
  const exitFeatures = (doc.features || []).filter((f) => f.properties?.kind === 'exit');
  const derivedZones = doc.derived?.zones || {};

  if (venues.length > 1) {
    const sel = h('select#sim-venue', { onchange: () => ctx.go(`#/sim/${encodeURIComponent(sel.value)}`) },
      venues.map((v) => h('option', { value: v.id, selected: v.id === venueId }, v.name || v.id)));
    head.append(h('div.field.inline', h('label', { for: 'sim-venue' }, 'Venue '), sel));
  } else {
    head.append(h('p.head-meta', header.name || venueId));
  }

  // ---- scenario form ----
  const formBox = h('section.card', { 'aria-labelledby': 'scn-h' }, h('h2#scn-h.card-title', 'Scenario'));
  const runsBox = h('section.card', { 'aria-labelledby': 'runs-h' }, h('h2#runs-h.card-title', 'Recent runs'));
  const runsList = h('div', h('p.muted', 'Loading…'));
  runsBox.append(runsList, h('p.muted.small', 'The server keeps the last few results in memory only; they are gone after a restart.'));
  const statusBox = h('section.card', { 'aria-labelledby': 'st-h', hidden: true }, h('h2#st-h.card-title', 'Run'));
  const statusBody = h('div', { 'aria-live': 'polite' });
  statusBox.append(statusBody);
  const resultBox = h('div');
  replace(body, formBox, statusBox, resultBox, runsBox);

  let liveState = null;
  const perZone = h('input#sim-per-zone', { type: 'number', min: 1, max: 20000, step: 1, value: 50, 'aria-label': 'People per zone' });
  const fillPct = h('input#sim-fill', { type: 'number', min: 1, max: 200, step: 1, value: 80, 'aria-label': 'Per cent of each zone capacity' });
  const radio = (value, checked) => h('input', { type: 'radio', name: 'sim-pop', value, id: `sim-pop-${value}`, checked });
  const popRadios = [radio('live', true), radio('per_zone', false), radio('fill', false)];
  const popTotal = h('p.muted.small', { 'aria-live': 'polite' });
  const premove = h('input#sim-premove', { type: 'number', min: 0, max: 600, step: 5, value: 0 });
  const model = h('select#sim-model', h('option', { value: 'cfsm' }, 'Collision-free speed (cfsm)'), h('option', { value: 'sfm' }, 'Social force (sfm)'));
  const routing = h('select#sim-routing', h('option', { value: 'quickest' }, 'Quickest (weighs queues)'), h('option', { value: 'nearest' }, 'Nearest exit'));
  const exitChecks = exitFeatures.map((f) => h('input', { type: 'checkbox', id: `sim-closed-${f.properties.id}`, 'data-exit': f.properties.id }));
  const runBtn = can.simulate ? h('button.btn.btn-primary#run-sim', { type: 'button', onclick: () => submit() }, 'Run simulation') : null;
  const formError = h('div.form-error', { role: 'alert' });

  const popChoice = () => popRadios.find((r) => r.checked)?.value || 'live';
  function population() {
    const list = [];
    const choice = popChoice();
    for (const f of zoneFeatures) {
      const id = f.properties.id;
      let n = 0;
      if (choice === 'live') n = Math.round(liveState?.zones?.[id]?.occupancy || 0);
      else if (choice === 'per_zone') n = Math.max(0, Math.round(+perZone.value || 0));
      else n = Math.round(((derivedZones[id]?.capacity || 0) * (+fillPct.value || 0)) / 100);
      if (n > 0) list.push({ zone: id, count: n });
    }
    return list;
  }
  function showTotal() {
    const n = population().reduce((a, p) => a + p.count, 0);
    popTotal.textContent = popChoice() === 'live' && !liveState ? 'Reading the live counts…'
      : n ? `${fmtInt(n)} people in ${population().length} zones` : 'Nobody: choose another population.';
  }
  for (const el of [...popRadios, perZone, fillPct]) el.addEventListener('input', showTotal);
  ctx.api.get(`/venues/${enc}/state`).then((st) => { liveState = st; showTotal(); }).catch(() => { liveState = { zones: {} }; showTotal(); });

  formBox.append(h('div.sim-form',
    h('fieldset', h('legend', 'People'),
      h('div.choice', popRadios[0], h('label', { for: 'sim-pop-live' }, 'Current occupancy (live count per zone)')),
      h('div.choice', popRadios[1], h('label', { for: 'sim-pop-per_zone' }, 'The same number in every zone:'), perZone),
      h('div.choice', popRadios[2], h('label', { for: 'sim-pop-fill' }, 'Fill every zone to'), fillPct, h('span', '% of its capacity')),
      popTotal),
    h('fieldset', h('legend', 'Closed exits'),
      exitChecks.length ? h('div.exit-checks', exitChecks.map((c, i) => h('div.choice', c,
        h('label', { for: c.id, title: exitFeatures[i].properties.name || '' }, exitFeatures[i].properties.id)))) : h('p.muted', 'The venue has no exits.')),
    h('fieldset', h('legend', 'Model and routing'),
      h('div.field', h('label', { for: 'sim-model' }, 'Movement model'), model),
      h('div.field', h('label', { for: 'sim-routing' }, 'Routing'), routing),
      h('div.field', h('label', { for: 'sim-premove' }, 'Pre-movement up to (s, uniform)'), premove))),
  h('div.sim-run-row', runBtn || h('p.role-note.muted', 'Your role can see the simulations of this venue but not run them.'),
    h('span.muted.small', `One simulation runs at a time on the server; the egress limit of the venue is ${fmtDuration(limit)}.`)),
  formError);
  showTotal();

  function scenario() {
    const sc = {
      vigil: { format: 'scenario', version: 1 },
      seed: 1,
      model: { name: model.value },
      routing: routing.value,
      population: population(),
      closed: exitChecks.filter((c) => c.checked).map((c) => c.dataset.exit),
    };
    const pm = +premove.value || 0;
    if (pm > 0) sc.profile = { premovement_s: { distribution: 'uniform', min: 0, max: pm } };
    return sc;
  }

  async function submit() {
    replace(formError);
    const sc = scenario();
    if (!sc.population.length) {
      replace(formError, 'Nobody to simulate: choose another population.');
      return;
    }
    runBtn.disabled = true;
    try {
      const job = await ctx.api.post(`/venues/${enc}/simulations`, sc);
      follow(job.id);
    } catch (e) {
      const errs = e.body?.errors || [];
      replace(formError, h('p', e.status === 403 ? 'Your role may not run simulations here.' : e.reason || e.message),
        errs.length ? h('ul.sim-errors', errs.map((x) => h('li', h('code', describePath(x.path, sc)), ` ${x.error}`))) : null);
      runBtn.disabled = false;
    }
  }
  // `population[3]` → `population[3] (zone floor)`, so the message names the place.
  function describePath(path, sc) {
    const m = /^population\[(\d+)\]/.exec(path || '');
    const entry = m ? sc.population[+m[1]] : null;
    return entry ? `${path} (zone ${entry.zone})` : path || '(scenario)';
  }

  // ---- recent runs ----
  async function loadRuns() {
    let list;
    try {
      list = (await ctx.api.get(`/simulations?venue=${enc}`)).simulations || [];
    } catch (e) {
      replace(runsList, notice('error', 'Could not load the runs.', e.reason || e.message));
      return;
    }
    if (disposed) return;
    replace(runsList, list.length ? h('ul.run-list', list.map((j) => h('li', { 'data-sim': j.id },
      h('button.link-button', { type: 'button', onclick: () => follow(j.id) }, j.id),
      h('span', humanise(j.state)), h('span.muted', `${fmtInt(j.scenario?.agents)} people · ${j.scenario?.model} · ${j.scenario?.routing}`
        + (j.scenario?.closed?.length ? ` · closed ${j.scenario.closed.join(', ')}` : '')),
      h('span.muted.small', `${fmtTime(j.created_at, tz)} by ${j.by}`))))
      : h('p.empty', 'No simulation of this venue yet.'));
  }
  loadRuns();

  // ---- progress ----
  let following = null;
  let currentJob = null;  // the job shown (its hazards are drawn on the playback)
  async function follow(id) {
    following = id;
    history.replaceState(null, '', `#/sim/${enc}/${encodeURIComponent(id)}`);
    statusBox.hidden = false;
    replace(resultBox);
    cancelAnimationFrame(frameReq);
    const bar = h('progress.sim-progress#sim-progress', { max: 1, value: 0 });
    const text = h('p#sim-status', 'Submitted…');
    replace(statusBody, text, bar);
    while (!disposed && following === id) {
      let job;
      try {
        job = await ctx.api.get(`/simulations/${encodeURIComponent(id)}`);
      } catch (e) {
        replace(statusBody, notice('error', `Simulation ${id} is not available.`, e.status === 404
          ? 'The server no longer has it (only the last few are kept, in memory).' : e.reason || e.message));
        if (runBtn) runBtn.disabled = false;
        return;
      }
      const p = job.progress || {};
      bar.max = Math.max(1, p.total || 1);
      bar.value = p.evacuated || 0;
      statusBox.dataset.state = job.state;
      if (job.state === 'queued') text.textContent = `Simulation ${id}: waiting for the one running now${job.position ? ` (position ${job.position})` : ''}.`;
      else if (job.state === 'running') text.textContent = `Simulation ${id}: ${fmtDuration(p.sim_time_s)} simulated, ${fmtInt(p.evacuated)} of ${fmtInt(p.total)} people out.`;
      else {
        text.textContent = `Simulation ${id}: ${humanise(job.state)}${job.finished_at ? ` at ${fmtTime(job.finished_at, tz)}` : ''}.`;
        if (job.error) statusBody.append(notice('error', 'The simulation did not finish.', job.error));
        if (runBtn) runBtn.disabled = false;
        loadRuns();
        if (job.state === 'done') await showResult(job);
        return;
      }
      await new Promise((r) => { const t = setTimeout(() => { timers.delete(t); r(); }, POLL_MS); timers.add(t); });
    }
  }

  // ---- results: figures, playback, curve, flow ----
  async function showResult(job) {
    currentJob = job;
    const sum = job.summary || {};
    const lim = sum.egress_limit_s ?? job.scenario?.egress_limit_s ?? limit;
    let frames = null;
    try {
      frames = await ctx.api.get(`/simulations/${encodeURIComponent(job.id)}/frames?fps=2`);
    } catch (e) {
      resultBox.append(notice('error', 'Could not load the positions for playback.', e.reason || e.message));
    }
    if (disposed || following !== job.id) return;
    const within = sum.within_limit === true;
    const pct = sum.time_percentiles_s || {};
    const figures = h('section.card#sim-summary', { 'aria-labelledby': 'sum-h' }, h('h2#sum-h.card-title', 'Result'),
      h('p.verdict', { class: within ? 'ok' : 'bad' }, within
        ? `Within the egress limit: everyone out in ${fmtDuration(sum.evacuation_time_s)} (limit ${fmtDuration(lim)}).`
        : sum.evacuation_time_s != null ? `Over the egress limit: everyone out in ${fmtDuration(sum.evacuation_time_s)} (limit ${fmtDuration(lim)}).`
          : `Not everyone got out: ${fmtInt(sum.not_evacuated)} people remained.`),
      h('dl.sim-figures',
        fig('People', fmtInt(sum.agents)), fig('Evacuated', fmtInt(sum.evacuated)),
        fig('50 % out', fmtDuration(pct['50'])), fig('90 % out', fmtDuration(pct['90'])), fig('95 % out', fmtDuration(pct['95'])),
        fig('Peak density', sum.peak_density_p_m2 ? `${fmt1(sum.peak_density_p_m2.value)} /m² (${sum.peak_density_p_m2.zone || '–'})` : '–')),
      (sum.notes || []).length ? h('ul', sum.notes.map((n) => h('li', n))) : null,
      h('p.muted.small', `${humanise(job.scenario?.model)} model, ${job.scenario?.routing} routing`
        + (job.scenario?.closed?.length ? `, closed: ${job.scenario.closed.join(', ')}` : ', every exit open')
        + `; computed in ${fmt1(sum.wall_s)} s.`));

    const curve = chart({
      id: 'sim-curve', label: `Evacuation curve: people out against time; limit ${fmtDuration(lim)}`,
      xMax: Math.max(lim * 1.05, ...job.curve.map((p) => p[0])), yMax: Math.max(1, sum.agents || job.progress?.total || 1),
      series: [{ points: job.curve, cls: 'curve', colour: COLOURS[0] }], limit: lim, xLabel: 'time (s)', yLabel: 'people out',
    });
    const exitIds = Object.keys(job.exits || {}).filter((e) => (job.exits[e] || []).some((p) => p[1] > 0));
    const flowMax = Math.max(0.5, ...exitIds.flatMap((e) => job.exits[e].map((p) => p[1])));
    const flow = chart({
      id: 'sim-flow', label: 'Flow per exit: persons per second through each exit against time',
      xMax: Math.max(1, ...job.curve.map((p) => p[0])), yMax: flowMax,
      series: exitIds.map((e, i) => ({ points: job.exits[e], cls: 'flow', colour: COLOURS[i % COLOURS.length], label: e })),
      xLabel: 'time (s)', yLabel: 'persons / s',
    });
    const exitRows = Object.entries(sum.exits || {}).filter(([, x]) => x.count > 0);
    const charts = h('div',
      h('section.card', { 'aria-labelledby': 'cv-h' }, h('h2#cv-h.card-title', 'Evacuation curve'), curve.el,
        h('p.muted.small', 'People out over time; the red dashed line is the venue\'s egress limit, the yellow line the playback time.')),
      h('section.card', { 'aria-labelledby': 'fl-h' }, h('h2#fl-h.card-title', 'Flow per exit'), flow.el,
        h('ul.chart-legend', exitIds.map((e, i) => h('li', colourKey(COLOURS[i % COLOURS.length]), e))),
        exitRows.length ? h('details', h('summary', 'Per exit: people, first and last out, mean flow'),
          h('div.table-wrap', h('table.table',
            h('thead', h('tr', ['Exit', 'People', 'First out', 'Last out', 'Mean flow /s'].map((t, i) => h(i ? 'th.num' : 'th', { scope: 'col' }, t)))),
            h('tbody', exitRows.map(([e, x]) => h('tr', h('th', { scope: 'row' }, e), h('td.num', fmtInt(x.count)),
              h('td.num', fmtDuration(x.first_s)), h('td.num', fmtDuration(x.last_s)), h('td.num', fmt1(x.mean_flow_p_s)))))))) : null));

    const playCard = frames ? playback(frames, [curve, flow]) : h('p');
    replace(resultBox, figures, h('div.sim-grid', playCard, charts));
  }

  function fig(label, value) {
    return [h('div', h('dt', label), h('dd', value))];
  }

  // Positions over the plan: level buttons, play/pause, time slider, speed.
  function playback(data, charts) {
    const frames = data.frames || [];
    const dt = data.dt_s || 0.5;
    const levels = levelsOf(doc);
    let level = levels[0] ?? 0;
    const plans = new Map();
    const planBox = h('div.plan-box#sim-plan');
    const levelBar = h('div.level-bar', { role: 'group', 'aria-label': 'Level' });
    const timeText = h('span.playback-time#sim-time', { 'aria-live': 'off' });
    const slider = h('input#sim-scrub', { type: 'range', min: 0, max: Math.max(0, frames.length - 1), step: 1, value: 0, 'aria-label': 'Simulated time' });
    const playBtn = h('button.btn#sim-play', { type: 'button', 'aria-pressed': 'false' }, 'Play');
    const speed = h('select#sim-speed', { 'aria-label': 'Playback speed' }, SPEEDS.map((v) => h('option', { value: v, selected: v === 10 }, `${v}×`)));
    let t = 0;
    let playing = false;
    let last = 0;
    const frameAt = (time) => Math.min(frames.length - 1, Math.max(0, Math.round(time / dt)));

    function planFor(l) {
      if (!plans.has(l)) {
        const plan = createPlan(doc, l, {});
        plan.el.classList.add('plan-static');
        plan.update(null);
        const hz = plan.overlay('hazards');
        for (const hzd of currentJob?.scenario?.hazards || []) {
          if ((hzd.level ?? 0) === l) hz.append(s('path.hazard', { d: `M${hzd.polygon.map(([x, y]) => `${x},${-y}`).join('L')}Z` }));
        }
        plans.set(l, { plan, dots: plan.overlay('agents'), pool: [] });
      }
      return plans.get(l);
    }
    function draw() {
      const f = frames[frameAt(t)];
      const p = planFor(level);
      const r = Math.max(0.22, 2.2 * p.plan.metresPerPixel());
      let n = 0;
      for (const a of f?.agents || []) {
        if ((a[2] ?? 0) !== level) continue;
        let c = p.pool[n];
        if (!c) {
          c = s('circle');
          p.pool.push(c);
          p.dots.append(c);
        }
        c.setAttribute('cx', a[0]);
        c.setAttribute('cy', -a[1]);
        c.setAttribute('r', r.toFixed(2));
        c.style.display = '';
        n++;
      }
      for (let i = n; i < p.pool.length; i++) p.pool[i].style.display = 'none';
      planBox.dataset.shown = String(n);
      const total = (f?.agents || []).length * (data.stride || 1);
      timeText.textContent = `${fmtDuration(f?.t ?? t)} · ${fmtInt(n * (data.stride || 1))} on level ${level} · ${fmtInt(total)} inside`;
      slider.value = String(frameAt(t));
      slider.setAttribute('aria-valuetext', `${fmtDuration(f?.t ?? t)}, ${fmtInt(total)} people inside`);
      for (const c of charts) c.setCursor(f?.t ?? t);
    }
    function showLevel(l) {
      level = l;
      for (const b of levelBar.querySelectorAll('button')) b.setAttribute('aria-pressed', String(+b.dataset.level === l));
      replace(planBox, planFor(l).plan.el);
      planBox.dataset.level = String(l);
      requestAnimationFrame(draw);
    }
    function tick(now) {
      if (disposed || !playing) return;
      t += ((now - last) / 1000) * (+speed.value || 1);
      last = now;
      if (frameAt(t) >= frames.length - 1) {
        t = (frames.length - 1) * dt;
        setPlaying(false);
      }
      draw();
      if (playing) frameReq = requestAnimationFrame(tick);
    }
    function setPlaying(on) {
      playing = on && frames.length > 1;
      playBtn.textContent = playing ? 'Pause' : 'Play';
      playBtn.setAttribute('aria-pressed', String(playing));
      cancelAnimationFrame(frameReq);
      if (playing) {
        if (frameAt(t) >= frames.length - 1) t = 0;
        last = performance.now();
        frameReq = requestAnimationFrame(tick);
      }
    }
    playBtn.addEventListener('click', () => setPlaying(!playing));
    slider.addEventListener('input', () => { t = +slider.value * dt; draw(); });
    for (const l of levels) levelBar.append(h('button.btn.btn-seg', { type: 'button', 'data-level': l, 'aria-pressed': 'false', onclick: () => showLevel(l) }, `Level ${l}`));
    if (levels.length < 2) levelBar.hidden = true;
    const card = h('section.card.plan-card', { 'aria-labelledby': 'pb-h' },
      h('div.card-head', h('h2#pb-h.card-title', 'Playback'), levelBar), planBox,
      h('div.playback-bar', playBtn, slider, speed, timeText),
      h('p.muted.small', `One frame per ${fmt1(dt)} s of simulated time`
        + (data.stride > 1 ? `; 1 in ${data.stride} people shown (each dot stands for ${data.stride})` : '')
        + (data.truncated ? '; the recording stops early (too many positions)' : '') + '.'));
    showLevel(level);
    return card;
  }

  if (simParam) follow(simParam);
  return cleanup;
}

/** A colour key for a legend (a style property, not a style attribute: the CSP allows no inline styles). */
function colourKey(colour) {
  const el = h('span.key', { 'aria-hidden': 'true' });
  el.style.background = colour;
  return el;
}

/** A small line chart in SVG: axes with round ticks, series of [x, y], an optional limit line. */
function chart({ id, label, xMax, yMax, series, limit, xLabel, yLabel }) {
  const W = 560, H = 240, L = 48, R = 12, T = 22, B = 34;
  const X = (x) => L + (x / xMax) * (W - L - R);
  const Y = (y) => H - B - (y / yMax) * (H - T - B);
  const svg = s('svg.chart', { id, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
  for (const v of ticks(yMax)) {
    svg.append(s('line.grid', { x1: L, x2: W - R, y1: Y(v), y2: Y(v) }),
      s('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }, fmtInt(v)));
  }
  for (const v of ticks(xMax)) svg.append(s('text', { x: X(v), y: H - B + 16, 'text-anchor': 'middle' }, fmtInt(v)));
  svg.append(s('line.axis', { x1: L, x2: L, y1: T, y2: H - B }), s('line.axis', { x1: L, x2: W - R, y1: H - B, y2: H - B }),
    s('text', { x: W - R, y: H - 4, 'text-anchor': 'end' }, xLabel), s('text', { x: 4, y: 4, 'dominant-baseline': 'hanging' }, yLabel));
  if (limit && limit <= xMax) svg.append(s('line.limit', { x1: X(limit), x2: X(limit), y1: T, y2: H - B }));
  for (const ser of series) {
    if (!ser.points.length) continue;
    svg.append(s(`path.${ser.cls}`, { d: `M${ser.points.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('L')}`, stroke: ser.colour },
      ser.label ? s('title', ser.label) : null));
  }
  const cursor = s('line.cursor', { x1: L, x2: L, y1: T, y2: H - B });
  svg.append(cursor);
  return {
    el: svg,
    setCursor(t) {
      const x = X(Math.min(Math.max(0, t), xMax)).toFixed(1);
      cursor.setAttribute('x1', x);
      cursor.setAttribute('x2', x);
    },
  };
}

function ticks(max) {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((v) => v >= raw) || mag * 10;
  const out = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}
