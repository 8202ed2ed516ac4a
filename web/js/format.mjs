// SPDX-License-Identifier: Apache-2.0
// Formatting of times (in the venue's time zone), numbers and durations.

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const cache = new Map();

function formatter(tz, withDate) {
  const key = `${tz}|${withDate}`;
  if (!cache.has(key)) {
    const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    if (withDate) Object.assign(opts, { year: 'numeric', month: 'short', day: 'numeric' });
    let f;
    try {
      f = new Intl.DateTimeFormat(undefined, { ...opts, timeZone: tz || browserZone });
    } catch {
      f = new Intl.DateTimeFormat(undefined, opts); // unknown zone name: the browser's own
    }
    cache.set(key, f);
  }
  return cache.get(key);
}

/** A time in the venue's zone (IANA name; the browser's zone when absent). */
export function fmtTime(iso, tz, { date = false } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatter(tz, date).format(d);
}

export function zoneName(tz) {
  return tz || browserZone;
}

const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dec2 = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export const fmtInt = (n) => (n === null || n === undefined || Number.isNaN(+n) ? '—' : intFmt.format(n));
export const fmt1 = (n) => (n === null || n === undefined || Number.isNaN(+n) ? '—' : dec1.format(n));
export const fmt2 = (n) => (n === null || n === undefined || Number.isNaN(+n) ? '—' : dec2.format(n));

/** 312 → "5 min 12 s". */
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || Number.isNaN(+sec)) return '—';
  const t = Math.round(+sec);
  const m = Math.floor(t / 60);
  const s = t % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
}

export function fmtTrend(pPerMin) {
  if (pPerMin === null || pPerMin === undefined) return '—';
  const n = Math.round(pPerMin);
  return `${n > 0 ? '+' : n < 0 ? '−' : '±'}${intFmt.format(Math.abs(n))}/min`;
}

export const humanise = (s) => String(s ?? '').replace(/_/g, ' ');
