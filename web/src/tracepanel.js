// tracepanel.js — the Calls and Try it tabs: pick a live or finished call
// (GET /calls, /calls/ID; a live one goes on through GET /events?call=ID),
// or run the edited text on the simulator (POST /simulate); then see the
// route choice explained, play the trace back record by record, and the
// details of the action selected on the diagram.
import { api, streamEvents } from './api.js';
import { clear, fmtSeconds, h } from './dom.js';
import { describe, parseExplain, runDetails } from './trace.js';

export class TracePanel {
  constructor({ getText, show, details, revisionOf }) {
    this.getText = getText;
    this.show = show;
    this.details = details;
    this.revisionOf = revisionOf;
    this.trace = null;
    this.stop = null;
    this.timer = null;
    this.callList = h('ul', { class: 'calls', id: 'call-list' });
    this.callsView = h('div', { class: 'trace-view' });
    this.callsEl = h('div', { class: 'tab-body', id: 'calls-tab' },
      h('div', { class: 'row' }, h('b', {}, 'Calls'), h('button', { id: 'refresh-calls', onclick: () => this.refreshCalls() }, 'Refresh')),
      this.callList, this.callsView);
    this.tryView = h('div', { class: 'trace-view' });
    this.tryEl = h('div', { class: 'tab-body', id: 'try-tab' }, this.tryForm(), this.tryView);
    this.detailBoxes = new Set();
  }

  // ---- calls ----

  async refreshCalls() {
    let data;
    try {
      ({ data } = await api.calls());
    } catch (e) {
      clear(this.callList, h('li', { class: 'none' }, `cannot list calls: ${e.message}`));
      return;
    }
    const item = (c) => h('li', { class: `call${c.live ? ' live' : ''}${this.trace && this.trace.id === c.call_id ? ' active' : ''}`,
      dataset: { call: c.call_id }, onclick: () => this.openCall(c.call_id) },
    h('span', { class: 'who' }, `${c.from ?? '?'} → ${c.to ?? '?'}`),
    h('span', { class: 'meta' }, `${c.route ?? 'no route'} · r${c.revision} · ${c.live ? 'live' : fmtSeconds(c.duration)}`),
    h('span', { class: 'when' }, (c.start || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z')));
    const all = [...(data.calls || []), ...(data.finished || [])];
    clear(this.callList, all.length ? all.slice(0, 50).map(item) : h('li', { class: 'none' }, 'No calls yet.'));
  }

  async openCall(id) {
    this.close();
    let trace = null;
    let data;
    try {
      ({ data } = await api.callById(id));
    } catch (e) {
      clear(this.callsView, h('p', { class: 'error' }, `cannot load the call: ${e.message}`));
      return;
    }
    // its nodes are those of the revision it ran on
    await this.revisionOf(data.revision);
    trace = this.makeTrace(data.trace || [], {
      id, title: `${data.from ?? '?'} → ${data.to ?? '?'}`, route: data.route, live: data.live,
      summary: data.live ? 'live' : `${data.hangup_by ?? ''} ${data.hangup_cause ?? ''}, ${fmtSeconds(data.duration)}`,
      truncated: data.truncated,
    });
    // A live call goes on from the snapshot through /events (records seen
    // in both are taken once).
    if (data.live) {
      const seen = new Set(trace.records.map((r) => JSON.stringify(r)));
      this.stop = streamEvents(id, (ev) => {
        if (ev.kind === 'call_start') return;
        if (ev.kind === 'call_end') {
          trace.live = false;
          trace.summary = `${ev.hangup_by ?? ''} ${ev.hangup_cause ?? ''}, ${fmtSeconds(ev.duration)}`;
        } else {
          const key = JSON.stringify(ev);
          if (seen.has(key)) return;
          seen.add(key);
          const atEnd = trace.upto === trace.records.length;
          trace.records.push(ev);
          if (atEnd) trace.upto = trace.records.length;
        }
        this.render(this.callsView);
      }, () => { trace.live = false; this.render(this.callsView); });
    }
    this.trace = trace;
    this.render(this.callsView, { follow: true });
    this.refreshCalls();
  }

  makeTrace(records, meta) {
    const route = records.find((r) => r.kind === 'route' && !r.leg);
    return { records, upto: records.length, explain: route ? parseExplain(route.explain) : [], ...meta,
      route: meta.route ?? (route ? route.route : null) };
  }

  // The trace on show is let go (back to editing).
  forget() {
    this.close();
    this.trace = null;
    clear(this.callsView);
    clear(this.tryView);
    this.show(null);
    this.refreshDetails();
  }

  close() {
    if (this.stop) this.stop();
    this.stop = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  // ---- the trace view: explanation, playback, records ----

  render(view, { follow = false } = {}) {
    const t = this.trace;
    if (!t) { clear(view); this.show(null); return; }
    const n = t.records.length;
    const slider = h('input', { type: 'range', min: 0, max: n, value: t.upto, class: 'scrub', id: `scrub-${view === this.tryView ? 'try' : 'calls'}`,
      oninput: (e) => { this.pause(); this.seek(Number(e.target.value), view); } });
    const cur = t.records[t.upto - 1];
    clear(view,
      h('div', { class: 'trace-head' }, h('b', {}, t.title), ' ', h('span', { class: t.live ? 'live' : '' }, t.live ? '● live' : t.summary),
        t.truncated ? h('span', { class: 'warn' }, ' (trace truncated)') : null),
      h('div', { class: 'explain' }, h('div', { class: 'sub' }, 'Route selection'),
        t.explain.length ? h('ul', {}, t.explain.map((x) => h('li', { class: x.chosen ? 'chosen' : 'not' },
          h('b', {}, x.route), x.priority !== undefined ? ` (${x.priority})` : '', `: ${x.why}`)))
          : h('p', { class: 'help' }, t.route ? `route ${t.route}` : 'no route record')),
      h('div', { class: 'playback' },
        h('button', { title: 'to the start', onclick: () => { this.pause(); this.seek(0, view); } }, '⇤'),
        h('button', { title: 'one record back', class: 'step-back', onclick: () => { this.pause(); this.seek(t.upto - 1, view); } }, '‹'),
        h('button', { title: this.timer ? 'pause' : 'play', class: 'play', onclick: () => this.togglePlay(view) }, this.timer ? '❚❚' : '▶'),
        h('button', { title: 'one record on', class: 'step-on', onclick: () => { this.pause(); this.seek(t.upto + 1, view); } }, '›'),
        h('button', { title: 'to the end', onclick: () => { this.pause(); this.seek(n, view); } }, '⇥'),
        slider, h('span', { class: 'pos' }, `${t.upto}/${n}`)),
      h('div', { class: 'now' }, cur ? `${fmtSeconds(cur.t)} ${describe(cur)}` : 'before the call'),
      h('ol', { class: 'records' }, t.records.map((r, i) => h('li', {
        class: `rec rec-${r.kind}${i < t.upto ? '' : ' later'}${i === t.upto - 1 ? ' current' : ''}`,
        onclick: () => { this.pause(); this.seek(i + 1, view); },
      }, h('span', { class: 't' }, fmtSeconds(r.t)), ' ', describe(r)))));
    const curEl = view.querySelector('.rec.current');
    if (curEl && this.timer) curEl.scrollIntoView({ block: 'nearest' });
    this.show(t, { follow });
    this.refreshDetails();
  }

  seek(k, view) {
    const t = this.trace;
    t.upto = Math.max(0, Math.min(t.records.length, k));
    this.render(view, { follow: true });
  }

  togglePlay(view) {
    if (this.timer) { this.pause(); this.render(view); return; }
    const t = this.trace;
    if (t.upto >= t.records.length) t.upto = 0;
    this.timer = setInterval(() => {
      if (t.upto >= t.records.length) { this.pause(); this.render(view); return; }
      this.seek(t.upto + 1, view);
    }, 400);
    this.render(view);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
  }

  // ---- the selected action's runs (inside the designer's step editor) ----

  detailsBox(stepId) {
    const box = h('div', { class: 'trace-details', dataset: { stepId } });
    this.detailBoxes.add(box);
    this.fillDetails(box);
    return box;
  }

  fillDetails(box) {
    if (!box.isConnected && box.dataset.filled) { this.detailBoxes.delete(box); return; }
    box.dataset.filled = '1';
    if (!this.trace) { clear(box); return; }
    clear(box, h('h4', {}, `In the trace (${this.trace.title})`), runDetails(this.details(box.dataset.stepId)));
  }

  refreshDetails() { for (const b of [...this.detailBoxes]) this.fillDetails(b); }

  // ---- try it: POST /simulate with the edited text ----

  tryForm() {
    const f = (name, label, attrs = {}) => h('label', { class: 'tf' }, h('span', {}, label),
      h(attrs.rows ? 'textarea' : 'input', { name, id: `try-${name}`, spellcheck: 'false', ...attrs }));
    const form = h('form', { class: 'try', id: 'try-form', onsubmit: (e) => { e.preventDefault(); this.runTry(form); } },
      h('p', { class: 'help' }, 'Runs the text being edited (not deployed) on the simulator, on a virtual clock: ',
        'HTTP and database requests get the mocks below, or fail.'),
      h('div', { class: 'grid' },
        f('from', 'from', { value: '100' }), f('to', 'to', { value: '555' }),
        f('source', 'source', { placeholder: 'gateway, user:101 (default: first gateway)' }),
        f('at', 'at', { placeholder: '2026-11-26T10:00:00+03:00' }),
        f('caller', 'caller', { placeholder: 'hold@12,dtmf:1@5,hangup@60' }),
        f('max_time', 'max time (s)', { value: '600' })),
      f('parties', 'parties (TARGET=SPEC a line)', { rows: 2, placeholder: '101=answer@3,hold@10,hangup@30' }),
      f('vars', 'vars (NAME=VALUE a line)', { rows: 2, placeholder: 'tier=gold' }),
      f('mocks', 'mocks (JSON: {"http":[...],"db":[...]})', { rows: 2, placeholder: '{"http":[{"url":"http://crm/*","json":{"vip":true}}]}' }),
      h('button', { type: 'submit', class: 'primary', id: 'try-run' }, 'Run'));
    return form;
  }

  async runTry(form) {
    const v = (n) => form.elements[n].value.trim();
    const lines = (n) => Object.fromEntries(v(n).split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const i = l.indexOf('=');
      return i > 0 ? [l.slice(0, i).trim(), l.slice(i + 1).trim()] : [l, ''];
    }));
    const req = { scenario: this.getText(), from: v('from'), to: v('to') };
    for (const k of ['source', 'at', 'caller']) if (v(k)) req[k] = v(k);
    if (v('max_time')) req.max_time = Number(v('max_time'));
    if (v('parties')) req.parties = lines('parties');
    if (v('vars')) req.vars = lines('vars');
    if (v('mocks')) {
      try { req.mocks = JSON.parse(v('mocks')); } catch (e) { clear(this.tryView, h('p', { class: 'error' }, `mocks: ${e.message}`)); return; }
    }
    clear(this.tryView, h('p', { class: 'help' }, 'running…'));
    let res;
    try {
      res = await api.simulate(req);
    } catch (e) {
      clear(this.tryView, h('p', { class: 'error' }, `simulate: ${e.message}`));
      return;
    }
    const { status, data } = res;
    if (status === 422) {
      clear(this.tryView, h('p', { class: 'error' }, 'The text has errors; fix them first:'),
        h('ul', {}, (data.errors || []).map((d) => h('li', {}, `${d.line}:${d.col} ${d.message}`))));
      return;
    }
    this.close();
    await this.revisionOf(null, { tried: true });
    this.trace = this.makeTrace(data.trace || [], {
      id: null, title: `try: ${req.from} → ${req.to}`, route: data.route,
      summary: data.rejected ? 'no route (404)' : `${data.hangup_by ?? ''} ${data.hangup_cause ?? ''}, ${fmtSeconds(data.duration)}${data.stopped ? ` (stopped: ${data.stopped})` : ''}`,
      truncated: data.truncated,
    });
    this.render(this.tryView, { follow: true });
  }
}

