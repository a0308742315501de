// api.js — the admin API of callroute serve (README, Admin API), from the
// page it serves. Changes carry `Authorization: Bearer TOKEN`; the token is
// kept in this tab's sessionStorage only: never in a URL, a log or a cookie.
const KEY = 'callroute-admin-token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => (t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function headers(extra) {
  const hd = { ...extra };
  const t = token.get();
  if (t) hd.Authorization = `Bearer ${t}`;
  return hd;
}

// The answer's JSON and its headers; an error status throws ApiError
// unless it is one of OK.
export async function call(method, path, { body, json, ifMatch, ok = [] } = {}) {
  const hd = {};
  if (json !== undefined) hd['Content-Type'] = 'application/json';
  else if (body !== undefined) hd['Content-Type'] = 'text/plain; charset=utf-8';
  if (ifMatch) hd['If-Match'] = ifMatch;
  const res = await fetch(path, {
    method,
    headers: headers(hd),
    body: json !== undefined ? JSON.stringify(json) : body,
    cache: 'no-store',
  });
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.slice(0, 200) }; }
  if (!res.ok && !ok.includes(res.status)) throw new ApiError(res.status, data);
  return { status: res.status, data, etag: res.headers.get('ETag') };
}

export const api = {
  scenario: () => call('GET', '../scenario'),
  validate: (text) => call('POST', '../scenario/validate', { body: text, ok: [422] }),
  deploy: (text, revision) => call('PUT', '../scenario', { body: text, ifMatch: `"${revision}"`, ok: [409, 422, 428] }),
  reload: () => call('POST', '../reload', { ok: [422] }),
  calls: () => call('GET', '../calls'),
  callById: (id) => call('GET', `../calls/${encodeURIComponent(id)}`),
  simulate: (req) => call('POST', '../simulate', { json: req, ok: [422] }),
};

// GET /events?call=ID as Server-Sent Events, read with fetch (EventSource
// cannot send the token): ONEVENT gets each `data:` line's JSON object
// (call_start, every trace record, call_end). Returns a function that stops it.
export function streamEvents(callId, onEvent, onEnd) {
  const ctl = new AbortController();
  (async () => {
    try {
      const res = await fetch(`../events?call=${encodeURIComponent(callId)}`, {
        headers: headers({ Accept: 'text/event-stream' }), signal: ctl.signal, cache: 'no-store',
      });
      if (!res.ok || !res.body) throw new Error(`GET /events: HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (!line.startsWith('data:')) continue;   // comments (": ping"), event names
          try { onEvent(JSON.parse(line.slice(5))); } catch { /* not JSON: not ours */ }
        }
      }
      onEnd(null);
    } catch (e) {
      if (e.name !== 'AbortError') onEnd(e);
    }
  })();
  return () => ctl.abort();
}
