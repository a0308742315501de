// main.js — callroute's visual scenario editor (README, Editor): the
// scenario of the running revision as flows of action nodes
// (sequential-workflow-designer), a YAML view in step with them, every
// edit validated by the server, Deploy with If-Match, traces of real and
// simulated calls painted on the nodes. docs/decisions/editor.md says why
// it is built this way.
import 'sequential-workflow-designer/css/designer.css';
import 'sequential-workflow-designer/css/designer-light.css';
import './editor.css';
import { Designer } from 'sequential-workflow-designer';
import { YAMLMap, YAMLSeq, isMap, isSeq } from 'yaml';
import { api, call, token } from './api.js';
import { clear, debounce, dialog, h } from './dom.js';
import { actionForm, objectForm, routeForm, scenarioForm } from './forms.js';
import { History } from './history.js';
import { Diagram, flowOfPath, flows, labelOf, paletteStep, parse, text as docText } from './model.js';
import { APPS, FAMILIES, SECTIONS } from './schema.js';
import { TextView } from './textview.js';
import { foldTrace, paint } from './trace.js';
import { TracePanel } from './tracepanel.js';
import { diffView } from './diff.js';
import { dialTarget } from './callflow.js';

const S = {
  doc: null, text: '', base: '', revision: 0, file: '',
  flows: [], flowId: null, section: null,
  diagram: new Diagram(), designer: null,
  history: new History(),
  diags: { errors: [], warnings: [], ok: null, pending: false, seq: 0, note: '' },
  stepDiags: new Map(),
  clipboard: null,
  trace: null,        // { records, upto, fold, current, title }
};

// ---- layout ---------------------------------------------------------------

const el = {};
function layout() {
  el.flowTitle = h('span', { class: 'flow-title' });
  el.status = h('span', { class: 'status', id: 'status' });
  el.revision = h('span', { class: 'revision', id: 'revision' });
  el.undo = h('button', { id: 'undo', title: 'Undo (Ctrl+Z)', onclick: undo }, '↶ Undo');
  el.redo = h('button', { id: 'redo', title: 'Redo (Ctrl+Shift+Z)', onclick: redo }, '↷ Redo');
  el.copy = h('button', { id: 'copy', title: 'Copy the selected action and what it holds (Ctrl+C)', onclick: copyStep }, 'Copy');
  el.paste = h('button', { id: 'paste', title: 'Paste after the selected action (Ctrl+V)', onclick: pasteStep }, 'Paste');
  el.tokenBtn = h('button', { id: 'token', onclick: askToken }, 'Token');
  el.deploy = h('button', { id: 'deploy', class: 'primary', onclick: deploy }, 'Deploy');
  el.callFlow = h('button', { id: 'call-flow', onclick: callFlow }, 'Call this flow');
  el.routes = h('ul', { class: 'flow-list', id: 'routes' });
  el.scenarios = h('ul', { class: 'flow-list', id: 'scenarios' });
  el.sections = h('ul', { class: 'flow-list', id: 'sections' });
  el.problems = h('ul', { class: 'problems', id: 'problems' });
  el.canvas = h('div', { class: 'canvas', id: 'canvas' });
  el.sectionView = h('div', { class: 'section-view', id: 'section-view', hidden: true });
  el.text = new TextView(onText);
  el.trace = new TracePanel({
    getText: () => (S.viewing ? S.viewing.stash.text : S.text),
    show: showTrace, details: traceDetailsFor, revisionOf: showRevisionFor,
  });
  el.banner = h('div', { class: 'readonly-banner', id: 'readonly-banner', hidden: true });
  el.tabs = {};
  const tab = (name, label, body) => {
    el.tabs[name] = { button: h('button', { class: 'tab', id: `tab-${name}`, onclick: () => selectTab(name) }, label), body };
    return el.tabs[name];
  };
  el.props = h('div', { class: 'tab-body props', id: 'props-tab' });
  const tabs = [tab('props', 'Properties', el.props), tab('yaml', 'YAML', el.text.el), tab('calls', 'Calls', el.trace.callsEl),
    tab('try', 'Try it', el.trace.tryEl)];
  const fold = h('button', { class: 'fold', title: 'fold the panel', onclick: () => {
    el.panel.classList.toggle('folded');
    fold.textContent = el.panel.classList.contains('folded') ? '⇤' : '⇥';
  } }, '⇥');
  el.panel = h('aside', { class: 'panel', id: 'panel' }, h('nav', { class: 'tabs' }, tabs.map((t) => t.button), fold),
    h('div', { class: 'tab-bodies' }, tabs.map((t) => t.body)));
  document.getElementById('app').replaceWith(h('div', { class: 'app', id: 'app' },
    h('header', { class: 'top' }, h('b', { class: 'brand' }, 'callroute'), el.flowTitle,
      h('span', { class: 'tools' }, el.undo, el.redo, el.copy, el.paste, el.callFlow), h('span', { class: 'grow' }),
      el.status, el.revision, el.tokenBtn, el.deploy),
    el.banner,
    h('div', { class: 'main' },
      h('aside', { class: 'side' },
        h('h4', {}, 'Routes', h('button', { class: 'link add', title: 'add a route', onclick: addRoute }, '+')), el.routes,
        h('h4', {}, 'Scenarios', h('button', { class: 'link add', title: 'add a named scenario', onclick: addScenario }, '+')), el.scenarios,
        h('h4', {}, 'Sections'), el.sections,
        h('h4', {}, 'Problems'), el.problems),
      h('section', { class: 'center' }, el.canvas, el.sectionView),
      el.panel)));
  selectTab('props');
  document.addEventListener('keydown', onKey);
  new MutationObserver(decorateSoon).observe(el.canvas, { childList: true, subtree: true });
}

function selectTab(name) {
  for (const [k, t] of Object.entries(el.tabs)) {
    t.button.classList.toggle('active', k === name);
    t.body.hidden = k !== name;
  }
  // the list of calls follows while it is on show
  clearInterval(S.callsTimer);
  if (name === 'calls') {
    el.trace.refreshCalls();
    S.callsTimer = setInterval(() => el.trace.refreshCalls(), 4000);
  }
}

// ---- the document and its history -----------------------------------------

// After any change of S.doc: its text, the history, the views, validation.
function commit({ fromText = false } = {}) {
  if (S.viewing) return;
  S.text = docText(S.doc);
  S.history.push(S.text);
  if (!fromText) el.text.set(S.text);
  S.flows = flows(S.doc);
  renderSide();
  renderToolbar();
  validateSoon();
}

function load(text, { resetHistory = false } = {}) {
  const doc = parse(text);
  if (doc.errors.length) return doc.errors;
  S.doc = doc;
  S.text = text;
  S.flows = flows(doc);
  if (resetHistory) S.history.reset(text);
  if (!S.flows.find((f) => f.id === S.flowId)) S.flowId = S.flows.length ? S.flows[0].id : null;
  el.text.set(text);
  renderSide();
  renderToolbar();
  if (S.section) showSection(S.section);
  else mountFlow();
  validateSoon();
  return null;
}

function onText(t) {
  if (t === S.text || S.viewing) return;
  const doc = parse(t);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const [line, col] = e.linePos ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
    S.diags = { ...S.diags, errors: [{ line, col, message: `YAML: ${e.message.split('\n')[0]}`, path: '', severity: 'error' }],
      warnings: [], ok: false, note: '' };
    renderProblems();
    return;
  }
  S.doc = doc;
  S.text = t;
  S.history.push(t);
  S.flows = flows(doc);
  if (!S.flows.find((f) => f.id === S.flowId)) S.flowId = S.flows.length ? S.flows[0].id : null;
  renderSide();
  renderToolbar();
  if (S.section) showSection(S.section);
  else mountFlow();
  validateSoon();
}

function undo() {
  if (S.viewing) return;
  const t = S.history.undo();
  if (t !== null) restore(t);
}
function redo() {
  if (S.viewing) return;
  const t = S.history.redo();
  if (t !== null) restore(t);
}
function restore(t) {
  S.doc = parse(t);
  S.text = t;
  S.flows = flows(S.doc);
  if (!S.flows.find((f) => f.id === S.flowId)) S.flowId = S.flows.length ? S.flows[0].id : null;
  el.text.set(t);
  renderSide();
  renderToolbar();
  if (S.section) showSection(S.section);
  else mountFlow();
  validateSoon();
}

function renderToolbar() {
  el.undo.disabled = !!S.viewing || !S.history.canUndo();
  el.redo.disabled = !!S.viewing || !S.history.canRedo();
  el.paste.disabled = !!S.viewing || !S.clipboard;
  el.deploy.disabled = !!S.viewing;
  el.tokenBtn.textContent = token.get() ? 'Token ✓' : 'Token';
  el.revision.textContent = S.revision ? `revision ${S.revision}${S.text !== S.base ? ' · edited' : ''}` : '';
  const t = dialTarget(S.flows, S.section ? null : flow());
  el.callFlow.title = t.why || `open the browser phone (/phone/) with ${t.number || 'no number'} to dial${t.note ? `: ${t.note}` : ''}`;
}

// "Call this flow": the browser phone in another tab, the flow's number
// filled in (callflow.js says which); or why there is none. A call runs the
// deployed revision, not the text being edited.
async function callFlow() {
  const t = dialTarget(S.flows, S.section ? null : flow());
  const edited = S.text !== S.base ? 'The phone calls the deployed revision: deploy your edits first to try them.' : '';
  const open = () => window.open(`../phone/${t.number ? `?to=${encodeURIComponent(t.number)}` : ''}`, 'callroute-phone');
  if (t.number !== undefined && !t.note && !edited) return open();
  const body = h('div', { class: 'call-flow-why' },
    t.why ? h('p', {}, `Nothing to dial: ${t.why}.`) : h('p', {}, t.number ? `The phone will dial ${t.number}.` : 'The phone opens with no number.'),
    t.note ? h('p', {}, `${t.note}.`) : null, edited ? h('p', {}, edited) : null);
  if (await dialog('Call this flow', body, [{ label: 'Close', value: null },
    { label: 'Open the phone', value: 'open', primary: !t.why }]) === 'open') open();
}

const flow = () => S.flows.find((f) => f.id === S.flowId);

// ---- the side bar: flows, sections, problems -------------------------------

function renderSide() {
  const tr = S.trace;
  const chosen = tr && tr.explain ? new Map(tr.explain.map((x) => [x.route, x])) : null;
  const touched = new Set();
  if (tr && tr.fold) for (const p of tr.fold.keys()) { const f = flowOfPath(S.flows, p); if (f) touched.add(f.id); }
  const errs = new Map();
  if (!S.viewing) for (const d of [...S.diags.errors, ...S.diags.warnings]) {
    const f = d.path ? flowOfPath(S.flows, d.path) : null;
    if (f) errs.set(f.id, (errs.get(f.id) || 0) + (d.severity === 'error' ? 1 : 0));
  }
  const item = (f, extra) => h('li', {
    class: `flow${f.id === S.flowId && !S.section ? ' active' : ''}${touched.has(f.id) ? ' traced' : ''}${errs.get(f.id) ? ' has-errors' : ''}`,
    dataset: { flow: f.id, name: f.name }, onclick: () => openFlow(f.id),
  }, h('span', { class: 'name' }, f.name), extra, errs.get(f.id) ? h('span', { class: 'badge err' }, String(errs.get(f.id))) : null);
  clear(el.routes, S.flows.filter((f) => f.kind === 'route').map((f) => {
    const why = chosen && chosen.get(f.name);
    return item(f, [h('span', { class: 'meta' }, `${f.type} · ${f.priority}${f.enabled ? '' : ' · off'}`),
      why ? h('span', { class: `why ${why.chosen ? 'chosen' : ''}`, title: why.why }, why.chosen ? '✓ chosen' : why.why) : null]);
  }));
  clear(el.scenarios, S.flows.filter((f) => f.kind === 'scenario').map((f) => item(f, null)));
  clear(el.sections, SECTIONS.map((s) => h('li', { class: `flow${S.section === s.name ? ' active' : ''}`, dataset: { section: s.name },
    onclick: () => showSection(s.name) }, h('span', { class: 'name' }, s.name), h('span', { class: 'meta' }, s.description))));
}

function renderProblems() {
  const list = [...S.diags.errors, ...S.diags.warnings];
  const n = S.diags.errors.length;
  el.status.className = `status ${S.diags.pending ? 'pending' : n ? 'bad' : S.diags.ok ? 'good' : ''}`;
  el.status.textContent = S.diags.note || (S.diags.pending ? 'checking…' : n ? `${n} error${n > 1 ? 's' : ''}`
    : S.diags.ok ? `valid${S.diags.warnings.length ? `, ${S.diags.warnings.length} warning(s)` : ''}` : '');
  clear(el.problems, list.length ? list.map((d) => h('li', { class: d.severity, onclick: () => jumpTo(d) },
    h('span', { class: 'where' }, d.line ? `${d.line}:${d.col}` : ''), ' ', d.message,
    d.path ? h('span', { class: 'path' }, ` ${d.path}`) : null)) : h('li', { class: 'none' }, S.diags.ok ? 'No problems.' : ''));
  el.text.mark(new Map(list.filter((d) => d.line).map((d) => [d.line, d.severity])));
  renderSide();
}

function jumpTo(d) {
  const f = d.path ? flowOfPath(S.flows, d.path) : null;
  if (f) {
    openFlow(f.id);
    const id = S.diagram.stepOfPath(d.path);
    if (id && S.designer) {
      S.designer.selectStepById(id);
      S.designer.moveViewportToStep(id);
    }
  } else if (d.path) {
    const sec = SECTIONS.find((s) => d.path === s.name || d.path.startsWith(`${s.name}.`) || d.path.startsWith(`${s.name}[`));
    if (sec) showSection(sec.name);
  }
  if (d.line) el.text.goto(d.line, d.col);
}

// ---- validation (POST /scenario/validate, debounced) ----------------------

const validateSoon = debounce(validate, 600);
async function validate() {
  if (S.viewing) return;
  const seq = ++S.diags.seq;
  const sent = S.text;
  S.diags.pending = true;
  renderProblems();
  try {
    const { data } = await api.validate(sent);
    if (seq !== S.diags.seq) return;
    S.diags = { ...S.diags, pending: false, ok: !!data.ok, errors: data.errors || [], warnings: data.warnings || [], note: '', text: sent };
  } catch (e) {
    if (seq !== S.diags.seq) return;
    S.diags = { ...S.diags, pending: false, ok: null, errors: [], warnings: [],
      note: e.status === 401 || e.status === 403 ? 'enter the admin token to check and deploy' : `cannot check: ${e.message}` };
  }
  mapDiags();
  renderProblems();
  if (S.designer) S.designer.updateBadges();
  decorateSoon();
  refreshPropErrors();
}

// The problems of the form on show, without building it again (a field
// may have the focus).
function refreshPropErrors() {
  const form = el.props.firstElementChild;
  if (!form) return;
  const id = form.dataset.stepId;
  const ds = id ? S.stepDiags.get(id) || [] : [];
  let ul = form.querySelector(':scope > ul.step-errors');
  if (!id) return;
  if (!ds.length) { if (ul) ul.remove(); return; }
  const fresh = h('ul', { class: 'step-errors' }, ds.map((e) => h('li', { class: e.severity }, e.message)));
  if (ul) ul.replaceWith(fresh);
  else form.querySelector(':scope > p.help').after(fresh);
}

// Diagnostics of the flow on screen, by step.
function mapDiags() {
  S.stepDiags = new Map();
  const f = flow();
  if (!f || S.viewing) return;   // the problems are the edited text's
  for (const d of [...S.diags.errors, ...S.diags.warnings]) {
    if (!d.path || flowOfPath([f], d.path) !== f) continue;
    const id = S.diagram.stepOfPath(d.path);
    if (!id) continue;
    if (!S.stepDiags.has(id)) S.stepDiags.set(id, []);
    S.stepDiags.get(id).push(d);
  }
}

// ---- the diagram -----------------------------------------------------------

const FAMILY_COLOR = { Flow: '#5b6abf', Call: '#2e8b57', Media: '#c0782b', Services: '#a0468c', More: '#666' };
const icons = new Map();
function iconFor(type) {
  if (!icons.has(type)) {
    const a = APPS[type];
    const color = FAMILY_COLOR[a ? a.family : 'More'];
    const letters = type.replace(/_/g, ' ').split(' ').map((w) => w[0]).join('').slice(0, 2).toUpperCase() || '?';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" rx="7" fill="${color}"/>` +
      `<text x="16" y="21" font-family="sans-serif" font-size="13" font-weight="bold" fill="#fff" text-anchor="middle">${letters}</text></svg>`;
    icons.set(type, `data:image/svg+xml,${encodeURIComponent(svg)}`);
  }
  return icons.get(type);
}

function openFlow(id) {
  S.section = null;
  S.flowId = id;
  renderSide();
  renderToolbar();
  mountFlow();
}

function mountFlow() {
  el.sectionView.hidden = true;
  el.canvas.hidden = false;
  const f = flow();
  el.flowTitle.textContent = f ? `${f.kind === 'route' ? 'route' : 'scenario'} ${f.name}` : 'no routes';
  const keep = S.designer && S.mounted === S.flowId ? { viewport: S.designer.getViewport(), sel: S.designer.getSelectedStepId() } : null;
  if (S.designer) S.designer.destroy();
  S.designer = null;
  clear(el.canvas);
  if (!f) return;
  const def = S.diagram.build(S.doc, f);
  mapDiags();
  const host = h('div', { class: 'designer-host' });
  el.canvas.append(host);
  S.designer = Designer.create(host, def, {
    theme: 'light',
    isReadonly: !!S.viewing,
    toolbox: {
      groups: FAMILIES.map((fam) => ({ name: fam, steps: Object.values(APPS).filter((a) => a.family === fam).map((a) => paletteStep(a.name)) }))
        .filter((g) => g.steps.length),
      labelProvider: (s) => s.type,
      descriptionProvider: (s) => (APPS[s.type] ? APPS[s.type].description : ''),
    },
    steps: {
      iconUrlProvider: (_, type) => iconFor(type),
      isDuplicable: () => true,
      isAutoSelectDisabled: false,
    },
    validator: { step: (s) => !(S.stepDiags.get(s.id) || []).some((d) => d.severity === 'error') },
    editors: false,
    controlBar: true,
    contextMenu: true,
    keyboard: { canHandleKey: () => !isTyping() },
  });
  S.mounted = S.flowId;
  renderProps();
  S.designer.onDefinitionChanged.subscribe(() => {
    const cur = flow();
    if (!cur || S.viewing) return;
    if (S.diagram.sync(S.doc, S.designer.getDefinition(), cur)) S.designer.updateRootComponent();
    commit();
    decorateSoon();
  });
  S.designer.onSelectedStepIdChanged.subscribe((id) => {
    renderProps();
    if (id) selectTab('props');
  });
  S.designer.onReady.subscribe(() => {
    if (keep) {
      S.designer.setViewport(keep.viewport);
      if (keep.sel && S.diagram.info.has(keep.sel)) S.designer.selectStepById(keep.sel);
    }
    decorateSoon();
  });
}

// The Properties tab: the selected action's form (and what the trace shown
// says it did), or with nothing selected the flow's own (route, scenario).
function renderProps() {
  const id = S.designer && S.designer.getSelectedStepId();
  const info = id && S.diagram.info.get(id);
  if (info) clear(el.props, stepForm(id, info));
  else clear(el.props, flowForm());
}

function stepForm(id, info) {
  const form = actionForm(info.node, {
    errors: S.stepDiags.get(id),
    onchange: () => {
      commit();
      relabel(id, labelOf(info.node));
    },
    onstructure: () => { commit(); mountFlow(); },
  });
  form.dataset.stepId = id;
  form.append(el.trace.detailsBox(id));
  return form;
}

// A step's label changed: the designer draws it again.
function relabel(id, name) {
  const walk = (steps) => steps.some((s) => (s.id === id ? ((s.name = name), true)
    : walk(s.sequence || []) || Object.values(s.branches || {}).some(walk)));
  if (S.designer && walk(S.designer.getDefinition().sequence)) S.designer.updateRootComponent();
}

function flowForm() {
  const f = flow();
  if (!f) return h('div', {});
  const errors = [...S.diags.errors, ...S.diags.warnings].filter((d) => d.path && flowOfPath([f], d.path) === f &&
    !S.diagram.stepOfPath(d.path));
  const onchange = () => commit();
  const box = f.kind === 'route' ? routeForm(f.node, { onchange, errors }) : scenarioForm(f.name, f.node, { onchange });
  box.append(h('button', { class: 'danger', onclick: () => removeFlow(f) }, `delete this ${f.kind}`));
  return box;
}

// Classes on the rendered nodes: problems, and the trace being shown.
const decorateSoon = debounce(decorate, 30);
function decorate() {
  const root = el.canvas.querySelector('svg');
  if (!root) return;
  for (const g of root.querySelectorAll('g[data-step-id].cr-error, g[data-step-id].cr-warning')) {
    g.classList.remove('cr-error', 'cr-warning');
    g.removeAttribute('data-problems');
  }
  for (const [id, ds] of S.stepDiags) {
    const g = root.querySelector(`g[data-step-id="${CSS.escape(id)}"]`);
    if (!g) continue;
    g.classList.add(ds.some((d) => d.severity === 'error') ? 'cr-error' : 'cr-warning');
    g.setAttribute('data-problems', ds.map((d) => d.message).join('\n'));
  }
  const tr = S.trace;
  paint(root, S.diagram, tr ? tr.fold : null, tr ? tr.current : null);
}

// ---- traces (from tracepanel.js) -------------------------------------------

// Shows TRACE (null: none) on the diagram, opening the flow it ran in.
function showTrace(trace, { follow = false } = {}) {
  S.trace = trace;
  if (trace) {
    trace.fold = foldTrace(trace.records, trace.upto);
    const cur = trace.records[trace.upto - 1];
    trace.current = cur && cur.kind === 'app' ? cur.path : null;
    let target = null;
    if (follow && trace.current) target = flowOfPath(S.flows, trace.current);
    if (!target && follow && trace.route) target = S.flows.find((f) => f.kind === 'route' && f.name === trace.route);
    if (target && (target.id !== S.flowId || S.section)) openFlow(target.id);
  }
  renderSide();
  decorateSoon();
}

function traceDetailsFor(stepId) {
  const info = S.diagram.info.get(stepId);
  return info && S.trace && S.trace.fold ? S.trace.fold.get(info.path) : undefined;
}

// ---- a call's own revision (read only) ---------------------------------------

// A call ran on revision N: its trace's paths are that text's. When the
// editor holds another text (another revision, or unsaved edits), that
// revision is shown read only while the trace is; "Back to editing" puts
// the edited text back as it was. TRY: a simulation of the edited text.
async function showRevisionFor(n, { tried = false } = {}) {
  if (tried || (!S.viewing && n === S.revision && S.text === S.base)) return closeRevision();
  if (S.viewing && S.viewing.revision === n) return;
  let src = null;
  try {
    src = (await call('GET', `../revisions/${n}`)).data.source;
  } catch { src = null; }
  if (src === null) return note(`revision ${n}'s text is no longer kept: the nodes may not be those the call ran`);
  const stash = S.viewing ? S.viewing.stash : { doc: S.doc, text: S.text, flowId: S.flowId, section: S.section };
  S.viewing = { revision: n, stash };
  S.doc = parse(src);
  S.text = src;
  S.flows = flows(S.doc);
  if (!S.flows.find((f) => f.id === S.flowId)) S.flowId = S.flows.length ? S.flows[0].id : null;
  S.section = null;
  el.text.set(src);
  el.text.area.readOnly = true;
  clear(el.banner, h('b', {}, `Revision ${n}, read only`),
    ` — the revision this call ran on${n === S.revision ? ' (your edits are put aside)' : ''}.`,
    h('button', { id: 'back-to-editing', onclick: () => { el.trace.forget(); closeRevision(); } }, 'Back to editing'));
  el.banner.hidden = false;
  renderSide();
  renderToolbar();
  mountFlow();
}

function closeRevision() {
  if (!S.viewing) return;
  const { stash } = S.viewing;
  S.viewing = null;
  S.doc = stash.doc;
  S.text = stash.text;
  S.flows = flows(S.doc);
  S.flowId = stash.flowId;
  el.text.set(S.text);
  el.text.area.readOnly = false;
  el.banner.hidden = true;
  renderSide();
  renderToolbar();
  if (stash.section) showSection(stash.section);
  else mountFlow();
  validateSoon();
}

// ---- sections ---------------------------------------------------------------

function showSection(name) {
  S.section = name;
  const sec = SECTIONS.find((s) => s.name === name);
  if (S.designer) { S.designer.destroy(); S.designer = null; S.mounted = null; }
  el.canvas.hidden = true;
  el.sectionView.hidden = false;
  el.flowTitle.textContent = name;
  const rerender = (structural) => { commit(); if (structural) showSection(name); };
  clear(el.sectionView, h('h3', {}, name), h('p', { class: 'help' }, sec ? sec.description : ''),
    sec ? objectForm(S.doc.contents, name, sec.schema, { onchange: rerender }) : null);
  renderSide();
}

// ---- flows: add, remove ------------------------------------------------------

function addRoute() {
  let routes = S.doc.get('routes', true);
  if (!isSeq(routes)) { routes = new YAMLSeq(); S.doc.set('routes', routes); }
  const m = new YAMLMap();
  let n = routes.items.length + 1;
  const names = new Set(S.flows.map((f) => f.name));
  while (names.has(`route-${n}`)) n++;
  m.set('name', `route-${n}`);
  m.set('type', 'from_gateway');
  m.set('script', new YAMLSeq());
  routes.items.push(m);
  commit();
  openFlow(`r:${routes.items.length - 1}`);
}

function addScenario() {
  let sc = S.doc.get('scenarios', true);
  if (!isMap(sc)) { sc = new YAMLMap(); S.doc.set('scenarios', sc); }
  let n = sc.items.length + 1;
  while (sc.has(`scenario-${n}`)) n++;
  const m = new YAMLMap();
  m.set('script', new YAMLSeq());
  sc.set(`scenario-${n}`, m);
  commit();
  openFlow(`s:scenario-${n}`);
}

async function removeFlow(f) {
  const ok = await dialog(`Delete ${f.kind} ${f.name}?`, h('p', {}, 'It and all its actions go (Undo brings them back).'),
    [{ label: 'Delete', value: 'yes', primary: true }, { label: 'Cancel', value: null }]);
  if (ok !== 'yes') return;
  if (f.kind === 'route') S.doc.get('routes', true).items.splice(f.index, 1);
  else S.doc.get('scenarios', true).delete(f.name);
  commit();
  S.flowId = S.flows.length ? S.flows[0].id : null;
  mountFlow();
}

// ---- copy and paste a subtree ---------------------------------------------

function selectedNode() {
  const id = S.designer && S.designer.getSelectedStepId();
  const info = id && S.diagram.info.get(id);
  return info ? { id, node: info.node } : null;
}

function copyStep() {
  const sel = selectedNode();
  if (!sel) return note('select an action to copy');
  S.clipboard = sel.node.clone();
  renderToolbar();
  note(`copied ${labelOf(sel.node)}`);
}

// After the selected action, in its list; with none selected, at the end.
function pasteStep() {
  const f = flow();
  if (!S.clipboard || !f || S.viewing) return;
  const node = S.clipboard.clone();
  const sel = selectedNode();
  let placed = false;
  if (sel) {
    const parents = S.designer.getStepParents(sel.id);
    const info = S.diagram.info.get(sel.id);
    const m = info.path.match(/^(.*)\[(\d+)\]$/);
    const seq = m ? seqAtPath(f, m[1]) : null;
    if (seq && parents) {
      seq.items.splice(Number(m[2]) + 1, 0, node);
      placed = true;
    }
  }
  if (!placed) {
    let seq = S.doc.getIn(f.seqPath, true);
    if (!isSeq(seq)) { seq = new YAMLSeq(); S.doc.setIn(f.seqPath, seq); }
    seq.items.push(node);
  }
  commit();
  mountFlow();
  const id = S.diagram.ids.get(node);
  if (id && S.designer) S.designer.onReady.subscribe(() => S.designer.selectStepById(id));
}

// The YAML list a step-list path (routes[0].script[3].then) names.
function seqAtPath(f, path) {
  const owner = path.slice(0, Math.max(path.lastIndexOf('.'), 0));
  const suffix = path.slice(owner.length);
  if (path === `${f.tracePath}.script`) return S.doc.getIn(f.seqPath, true);
  const id = S.diagram.paths.get(owner);
  const info = id && S.diagram.info.get(id);
  if (!info) return null;
  const lane = info.lanes.find((l) => l.suffix === suffix);
  return lane ? info.node.getIn(lane.key, true) : null;
}

// ---- the token, deploy -------------------------------------------------------

async function askToken() {
  const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', placeholder: 'the admin token' });
  input.value = token.get();
  const v = await dialog('Admin token', h('div', {},
    h('p', {}, 'Changes (validate, deploy, try it) need the token of settings.admin.token_file or token_env. ',
      'It is kept in this browser tab only (sessionStorage) and sent as Authorization: Bearer.'), input),
  [{ label: 'Save', value: 'save', primary: true }, { label: 'Forget it', value: 'forget' }, { label: 'Cancel', value: null }]);
  if (v === 'save') token.set(input.value.trim());
  if (v === 'forget') token.set('');
  renderToolbar();
  if (v) validate();
}

async function deploy() {
  validateSoon.cancel();
  await validate();
  if (S.diags.errors.length) {
    note(`not deployed: ${S.diags.errors.length} error(s) — fix them first`);
    return;
  }
  if (S.diags.ok !== true) return note('not deployed: the scenario could not be checked');
  await put(S.revision);
}

async function put(revision) {
  let res;
  try {
    res = await api.deploy(S.text, revision);
  } catch (e) {
    return note(`deploy failed: ${e.message}`);
  }
  const { status, data } = res;
  if (status === 200) {
    S.revision = data.revision;
    S.base = S.text;
    renderToolbar();
    note(`deployed: revision ${data.revision}`);
  } else if (status === 422) {
    S.diags = { ...S.diags, ok: false, errors: data.errors || [], warnings: data.warnings || [], note: '' };
    mapDiags();
    renderProblems();
    note('not deployed: the server found errors');
  } else if (status === 409) {
    await conflict(data);
  } else {
    note(`deploy: ${data && data.error}`);
  }
}

// 409: what changed on the server since this text was loaded; reload theirs,
// or overwrite knowingly (If-Match: the revision just seen).
async function conflict(data) {
  let cur;
  try {
    cur = (await api.scenario()).data;
  } catch (e) {
    return note(`conflict, and cannot read the scenario: ${e.message}`);
  }
  const same = cur.revision === S.revision;
  const body = h('div', { class: 'conflict' },
    h('p', {}, same ? `The file was changed on disk since revision ${S.revision} was loaded (${data.error}). ` +
      'Reload it on the server (POST /reload) to see it here.'
      : `Revision ${cur.revision} was deployed since you loaded revision ${S.revision}. What changed on the server:`),
    same ? null : diffView(S.base, cur.source, `revision ${S.revision}`, `revision ${cur.revision}`),
    same ? null : h('details', {}, h('summary', {}, 'your changes against the server\'s revision'),
      diffView(cur.source, S.text, `revision ${cur.revision}`, 'yours')));
  const v = await dialog('Someone else changed the scenario', body, same
    ? [{ label: 'Cancel', value: null, primary: true }]
    : [{ label: `Load revision ${cur.revision} (drop mine)`, value: 'reload' },
      { label: `Overwrite revision ${cur.revision} with mine`, value: 'overwrite' },
      { label: 'Cancel', value: null, primary: true }]);
  if (v === 'reload') {
    S.revision = cur.revision;
    S.base = cur.source;
    load(cur.source);
    S.history.push(cur.source);
    note(`loaded revision ${cur.revision}`);
  } else if (v === 'overwrite') {
    await put(cur.revision);
  }
}

// ---- small things ------------------------------------------------------------

let noteTimer = null;
function note(msg) {
  S.diags.note = msg;
  renderProblems();
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => { S.diags.note = ''; renderProblems(); }, 5000);
}

function isTyping() {
  const a = document.activeElement;
  return a && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT' || a.isContentEditable);
}

function onKey(e) {
  if (isTyping() || !(e.ctrlKey || e.metaKey)) return;
  const k = e.key.toLowerCase();
  if (k === 'z' && !e.shiftKey) { undo(); e.preventDefault(); }
  else if ((k === 'z' && e.shiftKey) || k === 'y') { redo(); e.preventDefault(); }
  else if (k === 'c') { copyStep(); e.preventDefault(); }
  else if (k === 'v') { pasteStep(); e.preventDefault(); }
}

async function start() {
  layout();
  try {
    const { data } = await api.scenario();
    S.revision = data.revision;
    S.file = data.path;
    S.base = data.source || '';
    document.title = `callroute editor — ${data.path}`;
    const errs = load(S.base, { resetHistory: true });
    if (errs) note(`the file does not parse: ${errs[0].message}`);
  } catch (e) {
    note(`cannot load the scenario: ${e.message}`);
  }
  if (!token.get()) S.diags.note = 'enter the admin token (Token) to check and deploy';
  renderProblems();
}

window.callrouteEditor = S;   // for the browser tests and the curious
start();
