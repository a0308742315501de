// model.js — the scenario as a YAML Document (the `yaml` package keeps
// comments, key order and styles), the flows in it (each route's script,
// each named scenario's), and the diagram of one flow for
// sequential-workflow-designer: built from the document, and written back
// into it after the user moved, added or deleted steps. A step keeps its
// YAML node, so an untouched action keeps its comments wherever it moves.
import { YAMLMap, YAMLSeq, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { APPS, COMMON } from './schema.js';

export const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false };

export function parse(text) {
  return parseDocument(text, { keepSourceTokens: false, prettyErrors: false, uniqueKeys: true });
}
export const text = (doc) => doc.toString(STRINGIFY);

// ---- flows --------------------------------------------------------------

export function flows(doc) {
  const out = [];
  const routes = doc.get('routes', true);
  if (isSeq(routes))
    routes.items.forEach((r, i) => {
      const name = isMap(r) ? String(r.get('name') ?? `route ${i + 1}`) : `route ${i + 1}`;
      out.push({
        id: `r:${i}`, kind: 'route', index: i, name,
        type: isMap(r) ? String(r.get('type') ?? 'from_gateway') : '',
        priority: isMap(r) ? (r.get('priority') ?? 50) : 50,
        enabled: !(isMap(r) && r.get('enabled') === false),
        node: r, seqPath: ['routes', i, 'script'], tracePath: `routes[${i}]`,
      });
    });
  const sc = doc.get('scenarios', true);
  if (isMap(sc))
    sc.items.forEach((pair) => {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      out.push({
        id: `s:${name}`, kind: 'scenario', name, node: pair.value,
        seqPath: ['scenarios', name, 'script'], tracePath: `scenarios.${name}`,
      });
    });
  return out;
}

// The flow whose trace path (routes[2], scenarios.voicemail) starts PATH.
export function flowOfPath(list, path) {
  return list.find((f) => path === f.tracePath || path.startsWith(`${f.tracePath}.`) || path.startsWith(`${f.tracePath}[`));
}

// ---- lanes: the parameters of an action that hold actions ----------------

// [{name, key: [...], suffix}] for NODE (a YAMLMap with `app`): the branches
// it shows. then/else/do/default always (a place to drop into); cases and
// handlers as the file has them; on_error when present.
export function lanesOf(node) {
  const app = APPS[String(node.get('app'))];
  const lanes = [];
  if (!app) return lanes;
  for (const p of app.params) {
    if (!p.lane || p.name === 'on_error') continue;
    if (p.lane === 'list') {
      lanes.push({ name: p.name, key: [p.name], suffix: `.${p.name}` });
    } else {
      const m = node.get(p.name, true);
      if (isMap(m))
        for (const pair of m.items) {
          const k = String(isScalar(pair.key) ? pair.key.value : pair.key);
          lanes.push({ name: p.lane === 'map' ? `${p.name === 'cases' ? 'case' : p.name} ${k}` : `${p.name} ${k}`,
            key: [p.name, k], suffix: `.${p.name}.${k}` });
        }
    }
  }
  if (node.has('on_error')) lanes.push({ name: 'on_error', key: ['on_error'], suffix: '.on_error' });
  return lanes;
}

function componentOf(lanes) {
  if (lanes.length === 0) return 'task';
  if (lanes.length === 1 && lanes[0].name === 'do') return 'container';
  return 'switch';
}

// A short label for the diagram: the application and what it acts on.
export function labelOf(node) {
  const app = String(node.get('app') ?? '?');
  const label = node.get('label') ?? node.get('id');
  const brief = (v) => {
    if (v === undefined || v === null) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.length > 22 ? `${s.slice(0, 21)}…` : s;
  };
  const main = { dial: 'to', email: 'to', play: 'file', log: 'message', http: 'url', condition: 'if', switch: 'value',
    event: 'on', scenario: 'name', transfer: 'to', wait: 'seconds', loop: 'times', hangup: 'cause', set: 'var',
    db: 'database', record: 'file', read_digits: 'var', tone: 'tone', stream: 'name' }[app];
  let detail = main ? brief(node.toJSON()[main]) : '';
  if (app === 'loop' && !detail) detail = brief(node.get('while'));
  if (label !== undefined) return `${app}: ${brief(label)}`;
  return detail ? `${app} ${detail}` : app;
}

// ---- the diagram ---------------------------------------------------------

export class Diagram {
  constructor() {
    this.ids = new WeakMap();   // YAML node -> step id
    this.info = new Map();      // step id -> { node, lanes, path }
    this.seq = 0;
  }

  idOf(node) {
    let id = this.ids.get(node);
    if (!id) {
      id = `n${++this.seq}`;
      this.ids.set(node, id);
    }
    return id;
  }

  step(node) {
    const id = this.idOf(node);
    const lanes = isMap(node) ? lanesOf(node) : [];
    this.info.set(id, { node, lanes, path: '' });
    const type = isMap(node) ? String(node.get('app') ?? '?') : '?';
    const s = {
      id, type, name: isMap(node) ? labelOf(node) : '(not an action)',
      componentType: componentOf(lanes), properties: { src: id },
    };
    if (s.componentType === 'container') s.sequence = this.steps(node.getIn(lanes[0].key, true));
    if (s.componentType === 'switch') {
      s.branches = {};
      for (const l of lanes) s.branches[l.name] = this.steps(node.getIn(l.key, true));
    }
    return s;
  }

  steps(seq) {
    return isSeq(seq) ? seq.items.map((n) => this.step(n)) : [];
  }

  // The definition of FLOW (its script; a route that runs a named scenario has none).
  build(doc, flow) {
    this.info.clear();
    const seq = doc.getIn(flow.seqPath, true);
    const def = { sequence: this.steps(seq), properties: { flow: flow.id } };
    this.index(def, flow);
    return def;
  }

  // Trace paths of every step of DEF (routes[0].script[3].on.answer[0]).
  index(def, flow) {
    this.paths = new Map();
    const walk = (steps, prefix) => steps.forEach((s, i) => {
      const info = this.info.get(s.id);
      const path = `${prefix}[${i}]`;
      if (!info) return;
      info.path = path;
      this.paths.set(path, s.id);
      if (s.sequence) walk(s.sequence, `${path}${info.lanes[0].suffix}`);
      if (s.branches) for (const l of info.lanes) walk(s.branches[l.name] || [], `${path}${l.suffix}`);
    });
    walk(def.sequence, `${flow.tracePath}.script`);
  }

  // The step a diagnostic's or a trace record's PATH names: the longest step
  // path it starts with (an error about routes[0].script[2].to is the step's).
  stepOfPath(path) {
    if (!this.paths || !path) return null;
    let p = path;
    for (;;) {
      const id = this.paths.get(p);
      if (id) return id;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return null;
      p = p.slice(0, cut);
    }
  }

  // A YAML node for a step the designer made (from the palette, or a
  // duplicate of another step: its `src` names the original).
  nodeFor(doc, s) {
    const known = this.info.get(s.id);
    if (known) return known.node;
    const src = s.properties && this.info.get(s.properties.src);
    const node = src ? src.node.clone() : newAction(doc, s.type);
    this.ids.set(node, s.id);
    this.info.set(s.id, { node, lanes: lanesOf(node), path: '' });
    s.properties = { src: s.id };
    s.name = labelOf(node);
    this.created = true;
    return node;
  }

  // Writes DEF (after a move, insert, delete or duplicate) into DOC.
  // True when steps were made (their labels changed: draw them again).
  sync(doc, def, flow) {
    this.created = false;
    const fill = (steps, parent, key) => {
      const old = parent.getIn(key, true);
      if (!isSeq(old) && steps.length === 0) return;
      const seq = isSeq(old) ? old : new YAMLSeq();
      seq.items = steps.map((s) => {
        const node = this.nodeFor(doc, s);
        const info = this.info.get(s.id);
        if (s.sequence) fill(s.sequence, node, info.lanes[0].key);
        if (s.branches) for (const l of info.lanes) fill(s.branches[l.name] || [], node, l.key);
        return node;
      });
      if (seq !== old) parent.setIn(key, seq);
    };
    fill(def.sequence, doc, flow.seqPath);
    this.index(def, flow);
    return this.created;
  }
}

// What a new action of some applications starts with, so it is useful at
// once (the rest the validator asks for).
const STARTERS = { event: { on: 'hold' }, loop: { times: 3 }, condition: { if: 'true' }, switch: { value: '{digits}' } };

// A new action of application APP: `app` and its required parameters in the
// schema's order (with their defaults, or none so the validator names what
// is missing).
export function newAction(doc, app) {
  const a = APPS[app];
  const m = new YAMLMap();
  m.set('app', app);
  if (!a) return m;
  const start = STARTERS[app] || {};
  for (const p of a.params) {
    if (p.name in start) m.set(p.name, start[p.name]);
    else if (!p.required || p.common) continue;
    else if (p.lane === 'list') m.set(p.name, new YAMLSeq());
    else if (p.lane) m.set(p.name, new YAMLMap());
    else if (p.default !== undefined) m.set(p.name, p.default);
  }
  return m;
}

// The step templates of the palette, one per application.
export function paletteStep(app) {
  const d = new Diagram();
  const doc = parse('{}');
  const s = d.step(newAction(doc, app));
  delete s.id;
  s.properties = {};
  s.name = app;
  const strip = (x) => {
    if (x.sequence) x.sequence = [];
    if (x.branches) for (const k of Object.keys(x.branches)) x.branches[k] = [];
  };
  strip(s);
  return s;
}

export { COMMON };
