// SPDX-License-Identifier: Apache-2.0
// CAP 1.2 warnings matched to gatherings, with specificity and acknowledgement of matches.

import { h, replace, notice } from '../dom.mjs';
import { fmtTime, fmt2, humanise } from '../format.mjs';
import { formDialog, notAvailable } from '../ui.mjs';

export const title = 'Warnings';

const ACTIONS = [['raised_posture', 'Raised posture'], ['extra_screening', 'Extra screening'], ['informed_staff', 'Informed staff'],
  ['cancelled', 'Cancelled the gathering'], ['no_action', 'No action needed'], ['other', 'Other (say in the note)']];

// The server's warning objects may carry the CAP fields at the top or in a `cap` member (the
// parsed CAP alert: identifier, sender, sent, status, msgType, info[] with event, headline,
// urgency, severity, certainty, expires...). Read both.
const capOf = (w) => w.cap || w.alert || w;
const info0 = (w) => (capOf(w).info || [])[0] || {};
const wTitle = (w) => w.headline || info0(w).headline || w.event || info0(w).event || capOf(w).identifier || w.id;
const wSent = (w) => w.sent || capOf(w).sent || w.received_at;
const wExpires = (w) => w.expires || info0(w).expires;
/** specificity: a number, or { score, parts: [{ name, score, weight, explanation }] }. */
const specScore = (m) => (m && typeof m.specificity === 'object' && m.specificity ? m.specificity.score : m?.specificity);
function specParts(m) {
  const parts = (m.specificity && typeof m.specificity === 'object' && m.specificity.parts) || m.parts || [];
  if (Array.isArray(parts)) return parts.map((p) => [p.name, p.score ?? p.value, p.explanation || p.why || '', p.weight]);
  return Object.entries(parts).map(([k, v]) => (typeof v === 'object' && v ? [k, v.score ?? v.value, v.explanation || v.why || v.reason || '', v.weight] : [k, v, '', undefined]));
}
const ackOf = (m) => m.acknowledgement || m.ack || (m.acknowledged_at ? { by: m.acknowledged_by, at: m.acknowledged_at, action: m.action, note: m.note } : null);

export async function mount(root, ctx, id) {
  const body = h('div', h('p.muted', 'Loading warnings…'));
  root.append(h('div.view-head', h('div', id ? h('p.crumbs', h('a', { href: '#/warnings' }, 'Warnings'), ' / ') : null, h('h1', id ? 'Warning' : 'Warnings'))), body);
  if (id) return detail(body, ctx, id);

  let list;
  try {
    list = await ctx.api.get('/warnings');
  } catch (e) {
    replace(body, e.notAvailable ? notAvailable('Warnings (CAP 1.2, matched to gatherings)') : notice('error', 'Could not load the warnings.', e.reason || e.message));
    return null;
  }
  const warnings = list.warnings || [];
  replace(body,
    ctx.who?.can?.warnings_post ? postForm(ctx) : null,
    warnings.length ? h('table.table',
      h('thead', h('tr', ['Warning', 'Sent', 'Expires', 'Matches', 'Highest specificity', 'Unacknowledged'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', warnings.map((w) => h('tr',
        h('th', { scope: 'row' }, h('a', { href: `#/warnings/${encodeURIComponent(w.id)}` }, wTitle(w))),
        h('td', fmtTime(wSent(w), undefined, { date: true })),
        h('td', fmtTime(wExpires(w), undefined, { date: true })),
        h('td.num', String(w.matches?.length ?? w.match_count ?? '–')),
        h('td', specificityBar(w.max_specificity ?? (w.matches?.length ? Math.max(...w.matches.map((m) => specScore(m) ?? 0)) : null))),
        h('td.num', String(w.unacknowledged ?? (w.matches ? w.matches.filter((m) => !ackOf(m)).length : '–')))))))
      : h('p.empty', 'No warnings received.'));
  return null;
}

async function detail(body, ctx, id) {
  let w;
  try {
    w = await ctx.api.get(`/warnings/${encodeURIComponent(id)}`);
  } catch (e) {
    replace(body, e.status === 404 ? notice('info', 'This warning was not found, or warnings are not available on this server yet.') : notice('error', 'Could not load the warning.', e.reason || e.message));
    return null;
  }
  const matches = w.matches || [];
  const can = ctx.who?.can || {};
  replace(body,
    h('section.card', h('h2.card-title', wTitle(w)),
      h('dl.facts', [['Event', w.event || info0(w).event], ['Sender', w.sender || capOf(w).sender], ['Sent', wSent(w) && fmtTime(wSent(w), undefined, { date: true })],
        ['Expires', wExpires(w) && fmtTime(wExpires(w), undefined, { date: true })],
        ['Urgency', w.urgency || info0(w).urgency], ['Severity', w.severity || info0(w).severity], ['Certainty', w.certainty || info0(w).certainty],
        ['Status', w.status || capOf(w).status], ['Message type', w.msg_type || capOf(w).msgType]]
        .filter(([, v]) => v).map(([k, v]) => [h('dt', k), h('dd', String(v))])),
      (w.description || info0(w).description) ? h('p', w.description || info0(w).description) : null,
      info0(w).instruction ? h('p', h('strong', 'Instruction: '), info0(w).instruction) : null),
    h('section.card', h('h2.card-title', 'Matched gatherings'),
      matches.length ? h('ul.match-list', matches.map((m) => {
        const ack = ackOf(m);
        const parts = specParts(m);
        return h('li.match',
          h('div.match-head', h('strong', m.gathering_name || m.gathering), m.venue ? ` at ${m.venue}` : '', ' ', specificityBar(specScore(m))),
          parts.length ? h('table.table.parts', h('caption.visually-hidden', 'How specific the match is'),
            h('thead', h('tr', h('th', { scope: 'col' }, 'Part'), h('th.num', { scope: 'col' }, 'Score'), h('th.num', { scope: 'col' }, 'Weight'), h('th', { scope: 'col' }, 'Why'))),
            h('tbody', parts.map(([name, score, why, weight]) => h('tr', h('th', { scope: 'row' }, humanise(name)), h('td.num', fmt2(score)), h('td.num', weight === undefined ? '–' : fmt2(weight)), h('td', why))))) : null,
          ack ? h('p.muted', `Acknowledged by ${ack.by || ack.acknowledged_by || '?'} at ${fmtTime(ack.at || ack.acknowledged_at, undefined, { date: true })}: ${humanise(ack.action)}${ack.note ? ` – ${ack.note}` : ''}`)
            : can.acknowledge ? h('button.btn.btn-primary', { type: 'button', onclick: () => formDialog({
              title: 'Acknowledge warning match', intro: `${wTitle(w)} → ${m.gathering_name || m.gathering}`,
              fields: [{ name: 'action', label: 'Action taken', kind: 'select', options: ACTIONS, required: true },
                { name: 'note', label: 'Note', kind: 'textarea', required: true }],
              confirm: 'Acknowledge',
              onSubmit: async (v) => {
                await ctx.api.post(`/warnings/${encodeURIComponent(id)}/matches/${encodeURIComponent(m.gathering)}/ack`, v);
                detail(body, ctx, id);
              },
            }) }, 'Acknowledge with action…') : h('p', h('span.badge.state-firing', 'Not acknowledged')));
      })) : h('p.empty', 'No gathering matches this warning.')));
  return null;
}

function specificityBar(v) {
  if (v === undefined || v === null || Number.isNaN(+v)) return h('span.muted', '–');
  const fill = h('span.spec-fill');
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, v)) * 100)}%`;
  return h('span.spec', { role: 'img', 'aria-label': `specificity ${fmt2(v)} of 1` }, h('span.spec-bar', fill), ` ${fmt2(v)}`);
}

function postForm(ctx) {
  const file = h('input#cap-file', { type: 'file', accept: '.xml,.cap,application/cap+xml,application/xml' });
  const text = h('textarea#cap-text', { rows: 6, spellcheck: 'false' });
  const out = h('div', { role: 'status' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  return h('details.card', h('summary', 'Post a CAP 1.2 warning'),
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { replace(out, notice('error', 'Paste a CAP document or choose a file.')); return; }
      try {
        const r = await ctx.api.post('/warnings', text.value, { contentType: 'application/cap+xml' });
        replace(out, notice('info', 'Warning accepted.', r?.id ? h('a', { href: `#/warnings/${encodeURIComponent(r.id)}` }, 'Open it') : ''));
      } catch (err) {
        replace(out, err.notAvailable ? notAvailable('Posting warnings') : notice('error', 'The warning was rejected.', `${err.reason}${err.details ? ` (${err.details})` : ''}`));
      }
    } },
    h('div.field', h('label', { for: 'cap-file' }, 'CAP file'), file),
    h('div.field', h('label', { for: 'cap-text' }, 'or CAP XML'), text),
    h('div.actions', h('button.btn.btn-primary', { type: 'submit' }, 'Post warning')), out));
}
