// SPDX-License-Identifier: Apache-2.0
// Vigil dashboard: session, hash routing, the unacknowledged-alerts banner.

import { createApi } from './api.mjs';
import { h, replace, notice } from './dom.mjs';
import { humanise } from './format.mjs';
import { describeAlert } from './ui.mjs';
import * as signin from './views/signin.mjs';
import * as venues from './views/venues.mjs';
import * as venue from './views/venue.mjs';
import * as alerts from './views/alerts.mjs';
import * as warnings from './views/warnings.mjs';
import * as timeline from './views/timeline.mjs';
import * as sim from './views/sim.mjs';

const TOKEN_KEY = 'vigil.token';
const BANNER_POLL_MS = 3000;

const routes = [
  { re: /^signin$/, view: signin, nav: null, open: true },
  { re: /^(?:venues)?$/, view: venues, nav: 'venues' },
  { re: /^venue\/([^/]+)$/, view: venue, nav: 'venues' },
  { re: /^alerts$/, view: alerts, nav: 'alerts' },
  { re: /^warnings(?:\/([^/]+))?$/, view: warnings, nav: 'warnings' },
  { re: /^timeline(?:\/([^/]+))?$/, view: timeline, nav: 'timeline' },
  { re: /^sim(?:\/([^/]+))?(?:\/([^/]+))?$/, view: sim, nav: 'sim' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const whoBox = document.getElementById('who');
const whoName = document.getElementById('who-name');
const banner = document.getElementById('alert-banner');

let cleanup = null;
let bannerTimer = null;
let bannerKey = '';
let afterSignIn = '#/venues';

const ctx = {
  who: null,
  token: () => sessionStorage.getItem(TOKEN_KEY) || '',
  api: null,
  venueDocs: new Map(),
  /** The venue document (GeoJSON + derived), fetched once per session. */
  async venueDoc(id) {
    if (!this.venueDocs.has(id)) {
      const p = this.api.get(`/venues/${encodeURIComponent(id)}`);
      this.venueDocs.set(id, p);
      p.catch(() => this.venueDocs.delete(id));
    }
    return this.venueDocs.get(id);
  },
  /** The IANA zone of a venue (cached doc), or undefined (the browser's). */
  async venueZone(id) {
    try {
      return (await this.venueDoc(id))?.vigil?.timezone || undefined;
    } catch {
      return undefined;
    }
  },
  refreshBanner: () => refreshBanner(),
  signIn,
  signOut,
  go: (hash) => { if (location.hash === hash) route(); else location.hash = hash; },
};

ctx.api = createApi({
  token: ctx.token,
  onUnauthorised: () => {
    if (ctx.who) signOut('Your session is no longer valid (the token was revoked or is unknown). Sign in again.');
  },
});

async function signIn(token) {
  const who = await ctx.api.whoamiWith(token);
  sessionStorage.setItem(TOKEN_KEY, token);
  ctx.who = who;
  showSession();
  ctx.go(afterSignIn && afterSignIn !== '#/signin' ? afterSignIn : '#/venues');
}

let signOutMessage = '';
function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  ctx.who = null;
  ctx.venueDocs.clear();
  signOutMessage = message;
  showSession();
  ctx.go('#/signin');
}
ctx.takeSignOutMessage = () => { const m = signOutMessage; signOutMessage = ''; return m; };

function showSession() {
  const who = ctx.who;
  nav.hidden = !who;
  whoBox.hidden = !who;
  if (who) {
    whoName.textContent = `${who.name || who.token_id} · ${humanise(who.role)}${who.venue ? ` · ${who.venue}` : ''}`;
    whoName.title = whoName.textContent;
    if (!bannerTimer) {
      refreshBanner();
      bannerTimer = setInterval(refreshBanner, BANNER_POLL_MS);
    }
  } else {
    clearInterval(bannerTimer);
    bannerTimer = null;
    bannerKey = '';
    banner.hidden = true;
    replace(banner);
  }
}

/** Firing (unacknowledged) alerts are never hidden: a banner with their count on every view. */
async function refreshBanner() {
  if (!ctx.who) return;
  let list;
  try {
    list = (await ctx.api.get('/alerts?state=firing')).alerts || [];
  } catch {
    return; // keep what is shown; the next poll tries again
  }
  list = list.filter((a) => a.state === 'firing');
  const key = list.map((a) => `${a.id}:${a.severity}`).sort().join(',');
  if (key === bannerKey) return;
  bannerKey = key;
  if (!list.length) {
    banner.hidden = true;
    replace(banner);
    document.body.classList.remove('has-banner');
    return;
  }
  const critical = list.filter((a) => a.severity === 'critical').length;
  const first = list.slice().sort((a, b) => (a.severity === 'critical' ? -1 : 0) - (b.severity === 'critical' ? -1 : 0)).slice(0, 3);
  banner.classList.toggle('critical', critical > 0);
  replace(banner,
    h('span.banner-icon', { 'aria-hidden': 'true' }, '!'),
    h('strong.banner-count', { 'data-count': list.length },
      `${list.length} unacknowledged alert${list.length === 1 ? '' : 's'}`),
    critical ? h('span.banner-crit', `(${critical} critical)`) : null,
    h('span.banner-list', first.map((a, i) => [i ? '; ' : '', describeAlert(a)]), list.length > 3 ? '; …' : ''),
    h('a.banner-link', { href: '#/alerts' }, 'Review alerts'));
  banner.hidden = false;
  document.body.classList.add('has-banner');
}

async function route() {
  const path = location.hash.replace(/^#\/?/, '');
  let match = null;
  let params = [];
  for (const r of routes) {
    const m = path.match(r.re);
    if (m) {
      match = r;
      params = m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
      break;
    }
  }
  if (!ctx.who && !match?.open) {
    afterSignIn = location.hash || '#/venues';
    if (ctx.token()) {
      try {
        ctx.who = await ctx.api.whoamiWith(ctx.token());
        showSession();
      } catch (e) {
        sessionStorage.removeItem(TOKEN_KEY);
        if (e.status !== 401) signOutMessage = `Could not reach the server: ${e.reason}`;
      }
    }
    if (!ctx.who) {
      if (location.hash !== '#/signin') { location.hash = '#/signin'; return; }
    }
  }
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
    cleanup = null;
  }
  for (const a of nav.querySelectorAll('a')) {
    if (match && a.dataset.route === match.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  replace(main);
  if (!match) {
    document.title = 'Not found · Vigil';
    main.append(notice('error', 'No such page.', h('p', h('a', { href: '#/venues' }, 'Go to the venues overview'))));
    return;
  }
  document.title = `${match.view.title} · Vigil`;
  const root = h('div.view');
  main.append(root);
  try {
    cleanup = (await match.view.mount(root, ctx, ...params)) || null;
  } catch (e) {
    console.error(e);
    root.append(notice('error', 'This view failed to load.', e.message || String(e)));
  }
  // Move focus to the content for keyboard and screen-reader users, except on first load.
  if (routedOnce && document.activeElement && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  routedOnce = true;
}
let routedOnce = false;

document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
// The skip link must not change the hash (that is the router's).
document.querySelector('.skip-link').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', route);
route();
