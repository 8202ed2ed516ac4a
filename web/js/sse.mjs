// SPDX-License-Identifier: Apache-2.0
// Server-Sent Events read with fetch(), so that the token travels in the Authorization header
// (never in a URL). Reconnects with back-off; reports 'connecting' | 'live' | 'reconnecting' | 'unavailable'.

import { BASE } from './api.mjs';

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

export function openStream(path, { token, on = {}, onStatus = () => {} }) {
  const stop = new AbortController();
  let retry = 1000;

  function dispatch(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length || !on[event]) return;
    let parsed;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    try {
      on[event](parsed);
    } catch (e) {
      console.error('stream handler', event, e);
    }
  }

  (async () => {
    onStatus('connecting');
    while (!stop.signal.aborted) {
      try {
        const res = await fetch(BASE + path, {
          headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream' },
          signal: stop.signal, cache: 'no-store', credentials: 'omit',
        });
        if (res.status === 404) {
          onStatus('unavailable');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onStatus('live');
        retry = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          // Normalise line ends; keep a trailing CR until its LF may arrive.
          const keepCr = buf.endsWith('\r');
          buf = buf.slice(0, keepCr ? -1 : undefined).replace(/\r\n?/g, '\n') + (keepCr ? '\r' : '');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            dispatch(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch {
        if (stop.signal.aborted) return;
      }
      if (stop.signal.aborted) return;
      onStatus('reconnecting');
      await sleep(retry, stop.signal);
      retry = Math.min(retry * 2, 10000);
    }
  })();

  return () => stop.abort();
}
