// schema.js — the language as `callroute schema` describes it
// (docs/callroute.schema.json, read when the bundle is built): every
// application with its parameters, types, defaults and help; which
// parameters hold actions (lanes); the condition operators; the sections.
// A new application or parameter needs no change here.
import schema from '../../docs/callroute.schema.json';

export const SCHEMA = schema;
const defs = schema.definitions || {};
const ACTIONS_REF = '#/definitions/actions';

export function resolve(s) {
  let x = s;
  for (let i = 0; x && x.$ref && i < 8; i++) {
    const name = x.$ref.replace('#/definitions/', '');
    x = { ...defs[name], ...Object.fromEntries(Object.entries(x).filter(([k]) => k !== '$ref')) };
  }
  return x || {};
}

export function isActions(s) {
  if (!s) return false;
  if (s.$ref === ACTIONS_REF) return true;
  return Array.isArray(s.allOf) && s.allOf.some((x) => x.$ref === ACTIONS_REF);
}

// The common parameters every action takes (from the schema's `set`, the
// first application; they are the same for all).
export const COMMON = ['id', 'label', 'comment', 'disabled', 'on_error'];

function laneKind(p) {
  if (isActions(p)) return 'list';
  if (p.type === 'object' && p.additionalProperties && isActions(p.additionalProperties)) return 'map';
  if (p.type === 'object' && p.properties && Object.values(p.properties).length &&
      Object.values(p.properties).every(isActions)) return 'handlers';
  return null;
}

// Families for the palette; an application not named here goes to "More".
const FAMILY = {
  set: 'Flow', condition: 'Flow', switch: 'Flow', loop: 'Flow', break: 'Flow', wait: 'Flow', stream: 'Flow',
  event: 'Flow', scenario: 'Flow', log: 'Flow', stop: 'Flow',
  answer: 'Call', ringing: 'Call', hangup: 'Call', dial: 'Call', transfer: 'Call', originate: 'Call',
  play: 'Media', read_digits: 'Media', record: 'Media', tone: 'Media',
  http: 'Services', db: 'Services', email: 'Services', history: 'Services',
};
export const FAMILIES = ['Flow', 'Call', 'Media', 'Services', 'More'];
export const familyOf = (app) => FAMILY[app] || 'More';

export const APPS = {};
for (const [key, def] of Object.entries(defs)) {
  if (!key.startsWith('app.')) continue;
  const name = key.slice(4);
  const required = new Set(def.required || []);
  const params = Object.entries(def.properties || {})
    .filter(([p]) => p !== 'app')
    .map(([p, s]) => ({
      name: p,
      schema: s,
      description: s.description || '',
      default: s.default,
      required: required.has(p),
      common: COMMON.includes(p),
      lane: laneKind(s),
      handlerKeys: laneKind(s) === 'handlers' ? Object.keys(s.properties) : null,
    }));
  APPS[name] = { name, description: def.description || '', params, family: familyOf(name) };
}
export const APP_NAMES = Object.keys(APPS);

// Condition operators and the shapes a condition may take.
const cond = defs.condition || {};
const varShape = (cond.anyOf || []).find((s) => s.properties && s.properties.op);
export const OPERATORS = (varShape && varShape.properties.op.enum) || [];
export const CONDITION_HELP = cond.description || '';
export const OP_VALUE_HELP = (varShape && varShape.properties.value && varShape.properties.value.description) || '';

// Top-level sections other than routes and scenarios (settings, users,
// groups, gateways, queues...), as the schema lists them.
export const SECTIONS = Object.entries(schema.properties || {})
  .filter(([k]) => !['version', 'routes', 'scenarios', 'include'].includes(k))
  .map(([k, s]) => ({ name: k, schema: s, description: s.description || '' }));
export const ROUTE_SCHEMA = (schema.properties.routes && schema.properties.routes.items) || {};
export const SCENARIO_SCHEMA = (schema.properties.scenarios && schema.properties.scenarios.additionalProperties) || {};

// What kind of input a parameter's schema asks for.
export function inputKind(s0) {
  const s = resolve(s0);
  if (s.enum) return { kind: 'enum', values: s.enum };
  if (s.const !== undefined) return { kind: 'const' };
  const types = [].concat(s.type || []);
  if (s.anyOf) {
    const alts = s.anyOf.map(resolve);
    if (alts.some((a) => a.type === 'array' || a.type === 'object' || a.$ref || a.anyOf)) return { kind: 'yaml' };
    if (alts.some((a) => a.enum)) return { kind: 'text' };
    return { kind: alts.some((a) => a.type === 'number' || a.type === 'integer') ? 'numtext' : 'text' };
  }
  if (types.includes('object') || types.includes('array')) return { kind: 'yaml' };
  if (types.length === 1 && types[0] === 'boolean') return { kind: 'bool' };
  if (types.length === 1 && (types[0] === 'integer' || types[0] === 'number')) return { kind: 'number' };
  if (types.length === 0 && !s.properties) return { kind: 'yaml' };
  return { kind: 'text' };
}
