// forms.js — forms generated from the schema that edit the YAML document
// in place: an action's parameters (the designer's step editor), a route
// (name, type, priority, conditions), a named scenario, and the sections
// (settings, users, groups, gateways, ...). A scalar keeps its node (and so
// its quoting and comment); anything structured is edited as a YAML snippet.
import { YAMLMap, YAMLSeq, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { h } from './dom.js';
import { APPS, OPERATORS, OP_VALUE_HELP, ROUTE_SCHEMA, SCENARIO_SCHEMA, inputKind, resolve } from './schema.js';
import { STRINGIFY } from './model.js';

// Sets KEY of MAP to V (undefined/'' deletes), keeping a scalar node's style.
export function setValue(map, key, v) {
  if (v === undefined || v === '') {
    map.delete(key);
    return;
  }
  const old = map.get(key, true);
  if (isScalar(old) && (typeof v !== 'object' || v === null)) old.value = v;
  else map.set(key, v);
}

function asText(node) {
  if (node === undefined || node === null) return '';
  if (isScalar(node)) return node.value === null ? '' : String(node.value);
  if (typeof node === 'object' && node.toJSON) return String(new YAMLSnippet(node));
  return String(node);
}

class YAMLSnippet {
  constructor(node) { this.node = node; }
  toString() {
    const d = parseDocument('null');
    d.contents = this.node.clone ? this.node.clone() : this.node;
    return d.toString(STRINGIFY).replace(/\n$/, '');
  }
}

function snippetValue(text, doc) {
  if (!text.trim()) return undefined;
  const d = parseDocument(text);
  if (d.errors.length) throw new Error(d.errors[0].message.split('\n')[0]);
  return d.contents;
}

// One input for KEY of MAP as SCHEMA describes it. ONCHANGE after each
// committed change (blur/enter/select).
export function field(map, key, schema, { label, help, required, onchange, id } = {}) {
  const s = resolve(schema || {});
  const kind = inputKind(schema || {}).kind;
  const node = map.get(key, true);
  const dflt = s.default;
  const name = label || key;
  const fid = id || `f-${key}-${Math.random().toString(36).slice(2, 8)}`;
  let input;
  const commit = (v) => { setValue(map, key, v); onchange && onchange(key); };
  if (kind === 'bool') {
    input = h('input', { type: 'checkbox', id: fid, checked: isScalar(node) ? !!node.value : !!dflt,
      onchange: (e) => commit(e.target.checked) });
  } else if (kind === 'enum') {
    const cur = isScalar(node) ? String(node.value) : '';
    input = h('select', { id: fid, onchange: (e) => commit(e.target.value === '' ? undefined : e.target.value) },
      h('option', { value: '' }, dflt !== undefined ? `(default: ${dflt})` : '—'),
      s.enum.map((v) => h('option', { value: String(v), selected: String(v) === cur }, String(v))));
  } else if (kind === 'const') {
    return null;
  } else if (kind === 'yaml' || (node && !isScalar(node))) {
    input = h('textarea', { id: fid, class: 'yaml-snippet', rows: Math.min(8, Math.max(2, asText(node).split('\n').length)),
      spellcheck: 'false', placeholder: s.description || '' });
    input.value = asText(node);
    const err = h('div', { class: 'field-error' });
    input.addEventListener('change', () => {
      try {
        commit(snippetValue(input.value));
        err.textContent = '';
      } catch (e) {
        err.textContent = `not YAML: ${e.message}`;
      }
    });
    return h('div', { class: 'field' }, h('label', { for: fid }, name, required ? ' *' : ''), input, err,
      help ? h('div', { class: 'help' }, help) : null);
  } else {
    const numeric = kind === 'number';
    input = h('input', { id: fid, type: 'text', value: asText(node),
      placeholder: dflt !== undefined ? `default: ${dflt}` : '', spellcheck: 'false' });
    input.addEventListener('change', () => {
      const t = input.value;
      let v = t;
      if (t === '') v = undefined;
      else if ((numeric || kind === 'numtext') && /^-?\d+(\.\d+)?$/.test(t.trim())) v = Number(t);
      commit(v);
    });
  }
  return h('div', { class: `field field-${kind}` }, h('label', { for: fid }, name, required ? ' *' : ''), input,
    help ? h('div', { class: 'help' }, help) : null);
}

// ---- an action's parameters (the step editor) ---------------------------

export function actionForm(node, { onchange, onstructure, errors }) {
  const app = APPS[String(node.get('app'))];
  const box = h('div', { class: 'step-form' });
  if (!app) {
    box.append(h('p', {}, `Unknown application '${node.get('app')}': edit it in the YAML view.`));
    return box;
  }
  box.append(h('h3', {}, app.name), h('p', { class: 'help' }, app.description));
  if (errors && errors.length)
    box.append(h('ul', { class: 'step-errors' }, errors.map((e) => h('li', { class: e.severity }, e.message))));
  const own = app.params.filter((p) => !p.common && !p.lane);
  const common = app.params.filter((p) => p.common && !p.lane);
  for (const p of own)
    box.append(field(node, p.name, p.schema, { help: p.description, required: p.required, onchange }));
  // Lanes that are maps (switch cases, dial handlers): add or remove one.
  for (const p of app.params.filter((x) => x.lane === 'map' || x.lane === 'handlers')) {
    const m = node.get(p.name, true);
    const keys = isMap(m) ? m.items.map((i) => String(isScalar(i.key) ? i.key.value : i.key)) : [];
    const sel = p.lane === 'handlers'
      ? h('select', {}, p.handlerKeys.filter((k) => !keys.includes(k)).map((k) => h('option', { value: k }, k)))
      : h('input', { type: 'text', placeholder: 'case value' });
    const add = () => {
      const k = sel.value.trim();
      if (!k || keys.includes(k)) return;
      let mm = node.get(p.name, true);
      if (!isMap(mm)) { mm = new YAMLMap(); node.set(p.name, mm); }
      mm.set(k, new YAMLSeq());
      onstructure();
    };
    box.append(h('div', { class: 'field lanes' }, h('label', {}, p.name, h('span', { class: 'help' }, ` ${p.description}`)),
      h('div', { class: 'lane-list' }, keys.map((k) => h('span', { class: 'chip' }, k,
        h('button', { class: 'link', title: `remove ${p.name} ${k} and its actions`, onclick: () => {
          node.get(p.name, true).delete(k);
          if (node.get(p.name, true).items.length === 0 && !p.required) node.delete(p.name);
          onstructure();
        } }, '×')))),
      h('div', { class: 'row' }, sel, h('button', { onclick: add }, `add ${p.lane === 'handlers' ? 'handler' : 'case'}`))));
  }
  const details = h('details', { class: 'common' }, h('summary', {}, 'id, label, comment, disabled, on_error'));
  for (const p of common) details.append(field(node, p.name, p.schema, { help: p.description, onchange }));
  const hasErr = node.has('on_error');
  details.append(h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: hasErr, onchange: (e) => {
    if (e.target.checked) node.set('on_error', new YAMLSeq());
    else node.delete('on_error');
    onstructure();
  } }), ' on_error: actions run in place when this action fails'));
  box.append(details);
  return box;
}

// ---- conditions (routes; all/any, not, every operator) -------------------

export function conditionsEditor(owner, key, { onchange }) {
  const box = h('div', { class: 'conditions' });
  const render = () => {
    box.replaceChildren();
    const list = owner.get(key, true);
    const items = isSeq(list) ? list.items : [];
    items.forEach((c, i) => {
      const del = h('button', { class: 'link', title: 'remove this condition', onclick: () => {
        list.items.splice(i, 1);
        if (list.items.length === 0) owner.delete(key);
        onchange(); render();
      } }, '×');
      if (isMap(c) && c.has('var') && c.has('op') && !isMap(c.get('value', true)) && !isSeq(c.get('value', true))) {
        const op = String(c.get('op'));
        box.append(h('div', { class: 'cond-row' },
          h('input', { type: 'text', class: 'cond-var', value: String(c.get('var') ?? ''), title: 'call variable',
            onchange: (e) => { setValue(c, 'var', e.target.value); onchange(); } }),
          h('select', { class: 'cond-op', onchange: (e) => { setValue(c, 'op', e.target.value); onchange(); } },
            OPERATORS.map((o) => h('option', { value: o, selected: o === op }, o))),
          h('input', { type: 'text', class: 'cond-value', value: c.has('value') ? String(c.get('value')) : '',
            title: OP_VALUE_HELP, onchange: (e) => {
              const t = e.target.value;
              setValue(c, 'value', t === '' ? undefined : /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t);
              onchange();
            } }), del));
      } else {
        // not, schedule, expr, nested all/any groups, lists as values: YAML
        const kind = isMap(c) ? (c.has('not') ? 'not' : c.has('schedule') ? 'schedule' : c.has('conditions')
          ? `group (${c.get('match') ?? 'all'})` : c.has('expr') ? 'expr' : 'condition') : 'expression';
        const ta = h('textarea', { class: 'yaml-snippet', rows: 3, spellcheck: 'false' });
        ta.value = String(new YAMLSnippet(c));
        ta.addEventListener('change', () => {
          try { list.items[i] = snippetValue(ta.value); onchange(); } catch { /* shown by validation */ }
        });
        box.append(h('div', { class: 'cond-row cond-yaml' }, h('span', { class: 'chip' }, kind), ta, del));
      }
    });
    const add = (v) => () => {
      let list2 = owner.get(key, true);
      if (!isSeq(list2)) { list2 = new YAMLSeq(); owner.set(key, list2); }
      list2.items.push(parseDocument(v).contents);
      onchange(); render();
    };
    box.append(h('div', { class: 'row cond-add' },
      h('button', { onclick: add('{ var: called_number, op: equals, value: "" }') }, '+ var op value'),
      h('button', { onclick: add('{ not: { var: caller_number, op: empty } }') }, '+ not'),
      h('button', { onclick: add('{ match: any, conditions: [] }') }, '+ any/all group'),
      h('button', { onclick: add('{ schedule: { days: mon-fri, time: "09:00-18:00" } }') }, '+ schedule'),
      h('button', { onclick: add('{ expr: "true" }') }, '+ expression')));
  };
  render();
  return box;
}

// ---- a route, a named scenario ------------------------------------------

export function routeForm(route, { onchange, errors }) {
  const props = ROUTE_SCHEMA.properties || {};
  const box = h('div', { class: 'route-form' }, h('h3', {}, 'Route'));
  if (errors && errors.length)
    box.append(h('ul', { class: 'step-errors' }, errors.map((e) => h('li', { class: e.severity }, e.message))));
  for (const k of ['name', 'type', 'priority', 'enabled', 'scenario'])
    if (props[k]) box.append(field(route, k, props[k], { help: props[k].description, onchange }));
  box.append(h('div', { class: 'field' }, h('label', {}, 'conditions'),
    field(route, 'match', props.match || {}, { label: 'match', help: 'all conditions, or any', onchange }),
    conditionsEditor(route, 'conditions', { onchange })));
  return box;
}

export function scenarioForm(name, sc, { onchange }) {
  const props = SCENARIO_SCHEMA.properties || {};
  return h('div', { class: 'route-form' }, h('h3', {}, `Scenario ${name}`),
    h('p', { class: 'help' }, 'A named script; routes and the `scenario` action run it with its arguments.'),
    field(sc, 'args', props.args || {}, { help: props.args && props.args.description, onchange }));
}

// ---- sections: settings, users, groups, gateways... ---------------------

// A form for the object NODE under SCHEMA: its known keys as fields (nested
// objects as fieldsets); a map of named entries (users, gateways) as one
// block per entry with add and remove.
export function objectForm(parent, key, schema, { onchange, depth = 0 }) {
  const s = resolve(schema);
  const box = h('div', { class: `obj depth-${depth}` });
  const ensure = () => {
    let n = parent.get(key, true);
    if (!isMap(n)) { n = new YAMLMap(); parent.set(key, n); }
    return n;
  };
  const node = parent.get(key, true);
  if (s.properties) {
    for (const [k, ps0] of Object.entries(s.properties)) {
      const ps = resolve(ps0);
      if (ps.type === 'object' && (ps.properties || ps.additionalProperties) && depth < 3) {
        box.append(h('details', { class: 'sub', open: isMap(node) && node.has(k) },
          h('summary', {}, k, h('span', { class: 'help' }, ` ${ps.description || ''}`)),
          objectForm(isMap(node) ? node : ensure(), k, ps, { onchange, depth: depth + 1 })));
      } else {
        // a section not in the file yet is created by its first value
        const target = isMap(node) ? node : { get: () => undefined, delete: () => {}, set: (a, b) => ensure().set(a, b) };
        box.append(field(target, k, ps, { help: ps.description, onchange }));
      }
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const entries = isMap(node) ? node.items : [];
    for (const pair of entries) {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      box.append(h('details', { class: 'entry', open: entries.length <= 4 },
        h('summary', {}, name, h('button', { class: 'link', title: `remove ${name}`, onclick: (e) => {
          e.preventDefault(); node.delete(pair.key); onchange(true);
        } }, '×')),
        objectForm(node, pair.key, s.additionalProperties, { onchange, depth: depth + 1 })));
    }
    const input = h('input', { type: 'text', placeholder: 'name' });
    box.append(h('div', { class: 'row' }, input, h('button', { onclick: () => {
      const n = input.value.trim();
      if (!n) return;
      const m = ensure();
      if (!m.has(n)) m.set(n, new YAMLMap());
      onchange(true);
    } }, `add ${key === 'users' ? 'user' : key === 'gateways' ? 'gateway' : key === 'groups' ? 'group' : 'entry'}`)));
  } else {
    box.append(field(parent, key, s, { help: s.description, onchange }));
  }
  return box;
}
