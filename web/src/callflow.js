// callflow.js — "Call this flow": which number the browser phone (/phone/)
// dials to reach a flow of the editor. The phone registers as a user, so
// its calls take the `from_user` routes; a route is reached by a number its
// conditions on `called_number` accept. A pure function of the document:
// { number, note } or { why } (nothing to dial, and why not).
import { isMap, isSeq } from 'yaml';

const plain = (v) => (v && typeof v === 'object' && 'value' in v ? v.value : v);

// A number the dial pattern P (`_1XX`, docs/scenario.md) matches: the least
// digit of each class, the first of each set, one digit for `.`.
export function numberOfPattern(p) {
  if (!p.startsWith('_')) return p;
  let out = '';
  for (let i = 1; i < p.length; i++) {
    const c = p[i];
    if (c === 'X' || c === 'x' || c === '.') out += '0';
    else if (c === 'Z' || c === 'z') out += '1';
    else if (c === 'N' || c === 'n') out += '2';
    else if (c === '!') continue;
    else if (c === '[') {
      const end = p.indexOf(']', i);
      if (end < 0) return null;
      out += p[i + 1];
      i = end;
    } else out += c;
  }
  return out;
}

// The number one condition { var: called_number, op, value } lets through,
// or null (it tests something else, or a number cannot be made up for it).
function numberOf(cond) {
  if (!isMap(cond) || String(cond.get('var')) !== 'called_number') return null;
  const op = String(cond.get('op'));
  const v = cond.get('value', true);
  const text = (x) => (x === undefined || x === null ? '' : String(plain(x)));
  if (['equals', 'starts_with', 'ends_with', 'contains'].includes(op)) return text(v) || null;
  if (op === 'in' && isSeq(v) && v.items.length) return text(v.items[0]) || null;
  if (op === 'pattern') return numberOfPattern(text(v)) || null;
  return null;
}

// The number to dial for flow F (an entry of model.js flows()), or why none.
export function dialTarget(flows, f) {
  if (!f) return { why: 'no flow is open' };
  if (f.kind === 'scenario') {
    const callers = flows.filter((r) => r.kind === 'route' && isMap(r.node) && String(r.node.get('scenario')) === f.name);
    for (const r of callers) {
      const t = dialTarget(flows, r);
      if (t.number !== undefined) return { ...t, note: `through route ${r.name}${t.note ? `; ${t.note}` : ''}` };
    }
    return { why: `scenario ${f.name} runs when a route, an action or POST /calls names it; ` +
      `no route a browser's call can take (type: from_user) runs it` };
  }
  const route = f.node;
  if (!isMap(route)) return { why: 'this route is not a map' };
  if (f.type !== 'from_user')
    return { why: `route ${f.name} takes calls of type ${f.type}; the browser phone is a user: its calls take the from_user routes` };
  if (!f.enabled) return { why: `route ${f.name} is turned off (enabled: false)` };
  const conds = route.get('conditions', true);
  const list = isSeq(conds) ? conds.items : [];
  if (!list.length) return { number: '', note: `route ${f.name} has no conditions: any number you dial reaches it (unless a route of higher priority takes it)` };
  const any = String(route.get('match') ?? 'all') === 'any';
  const numbers = list.map(numberOf);
  const first = numbers.find((n) => n !== null && n !== undefined);
  if (first === undefined)
    return { why: `route ${f.name} has no condition on called_number that a number can be made up for ` +
      '(equals, in, starts_with, ends_with, contains, pattern)' };
  const others = !any && numbers.some((n) => n === null);
  return { number: first, note: others ? `route ${f.name} tests more than the number: its other conditions must hold too` : '' };
}
