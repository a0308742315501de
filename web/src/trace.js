// trace.js — a call's trace (the records of GET /calls/ID, /events and
// POST /simulate) folded into what each action did, painted on the
// diagram's nodes: which ran, in which strand, when, for how long, with
// which result and variables; the route choice explained; played back
// record by record.
import { fmtSeconds, h } from './dom.js';

// What each action path did in RECORDS[0..UPTO).
export function foldTrace(records, upto = records.length) {
  const byPath = new Map();
  const open = new Map();   // strand:path -> run
  for (let i = 0; i < upto; i++) {
    const r = records[i];
    if (r.kind !== 'app' || !r.path) continue;
    const key = `${r.strand}:${r.path}`;
    let e = byPath.get(r.path);
    if (!e) { e = { path: r.path, app: r.app, runs: [] }; byPath.set(r.path, e); }
    if (r.phase === 'start' || r.phase === 'skip') {
      const run = { strand: r.strand, strand_name: r.strand_name, start: r.t, end: null, status: r.phase === 'skip' ? 'skipped' : 'running', record: i };
      e.runs.push(run);
      if (r.phase === 'start') open.set(key, run);
    } else if (r.phase === 'end') {
      let run = open.get(key);
      if (!run) { run = { strand: r.strand, strand_name: r.strand_name, start: r.t, record: i }; e.runs.push(run); }
      open.delete(key);
      run.end = r.t;
      run.status = r.status || 'ok';
      run.error = r.error;
      run.vars = r.vars;
      run.endRecord = i;
    }
  }
  for (const e of byPath.values()) {
    const last = e.runs[e.runs.length - 1];
    e.status = e.runs.some((x) => x.status === 'running') ? 'running'
      : e.runs.some((x) => x.status === 'error' || x.status === 'timeout') ? 'failed'
        : last && last.status === 'skipped' ? 'skipped' : last && last.status === 'cancelled' ? 'cancelled' : 'ok';
  }
  return byPath;
}

// "from-provider (priority 50): chosen\nunknown (priority 0): matched, but ..."
export function parseExplain(text) {
  return String(text || '').split('\n').filter(Boolean).map((line) => {
    const m = line.match(/^(.*?) \(priority (\d+)\): (.*)$/);
    return m ? { route: m[1], priority: Number(m[2]), why: m[3], chosen: m[3] === 'chosen' } : { route: '', why: line };
  });
}

// One line for a record (the list and the playback caption).
export function describe(r) {
  const strand = r.strand_name ? `[${r.strand_name}] ` : '';
  switch (r.kind) {
    case 'route': return r.route ? `route ${r.route} chosen` : 'no route matched';
    case 'app': return `${strand}${r.app} ${r.phase}${r.status && r.status !== 'ok' ? ` ${r.status}` : ''}${r.error ? `: ${r.error}` : ''}`;
    case 'event': return `${strand}event ${r.event}${r.leg ? ` (${r.leg})` : ''}${r.by ? ` by ${r.by}` : ''}${r.digit ? ` ${r.digit}` : ''}`;
    case 'log': return `${strand}log: ${r.message}`;
    case 'error': return `${strand}error: ${r.message}`;
    case 'email': return `${strand}email to ${r.to}: ${r.subject || ''}`;
    case 'hangup': return `hangup by ${r.by} (${r.cause})`;
    case 'call': return `call ended: ${r.by} ${r.cause}, ${fmtSeconds(r.duration)}`;
    case 'call_start': return `call started (${r.from} → ${r.to})`;
    case 'call_end': return `call ended: ${r.hangup_by} ${r.hangup_cause}`;
    default: return r.kind;
  }
}

const NS = 'http://www.w3.org/2000/svg';

// The shape a node's state shows on: a task's box, or the pill naming a
// branching or nesting step.
function ownRect(g) {
  return g.querySelector(':scope > rect.sqd-step-task-rect') || g.querySelector(':scope > g.sqd-label-primary > rect');
}

// Paints FOLD on the designer's SVG (ROOT) through DIAGRAM's path index;
// CURRENT is the path of the record played back now.
export function paint(root, diagram, fold, current) {
  root.querySelectorAll('.cr-time').forEach((t) => t.remove());
  for (const g of root.querySelectorAll('g[data-step-id].cr-traced')) {
    g.classList.remove('cr-traced', 'cr-ok', 'cr-failed', 'cr-running', 'cr-skipped', 'cr-cancelled', 'cr-now');
    g.removeAttribute('data-trace');
  }
  if (!fold || !diagram.paths) return;
  for (const [path, e] of fold) {
    const id = diagram.paths.get(path);
    if (!id) continue;
    const g = root.querySelector(`g[data-step-id="${CSS.escape(id)}"]`);
    if (!g) continue;
    g.classList.add('cr-traced', `cr-${e.status}`);
    if (path === current) g.classList.add('cr-now');
    const first = e.runs[0];
    const last = e.runs[e.runs.length - 1];
    const label = `${fmtSeconds(first.start)}${last.end !== null && last.end !== undefined ? ` → ${fmtSeconds(last.end)}` : ' …'}` +
      `${e.runs.length > 1 ? ` ×${e.runs.length}` : ''} ${first.strand_name || ''}`;
    g.setAttribute('data-trace', label);
    const rect = ownRect(g);
    if (!rect) continue;
    const box = rect.getBBox();
    const t = document.createElementNS(NS, 'text');
    t.setAttribute('class', `cr-time cr-time-${e.status}`);
    t.setAttribute('x', String(box.x + box.width + 6));
    t.setAttribute('y', String(box.y + box.height / 2 + 4));
    t.textContent = label;
    rect.parentNode.append(t);
  }
}

// The details of one action in the trace (the panel beside the diagram).
export function runDetails(e) {
  if (!e) return h('p', { class: 'help' }, 'This action did not run in this call.');
  return h('div', { class: 'runs' }, e.runs.map((r, i) => h('div', { class: `run run-${r.status}` },
    h('div', {}, h('b', {}, `${e.app} `), `run ${i + 1} in strand ${r.strand} (${r.strand_name || ''})`),
    h('div', {}, `start ${fmtSeconds(r.start)}`, r.end !== null && r.end !== undefined
      ? `, end ${fmtSeconds(r.end)}, took ${fmtSeconds(r.end - r.start)}` : ', still running'),
    h('div', {}, `result: ${r.status}`, r.error ? ` — ${r.error}` : ''),
    r.vars ? h('table', { class: 'vars' }, Object.entries(r.vars).map(([k, v]) =>
      h('tr', {}, h('td', {}, k), h('td', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))))) : null)));
}
