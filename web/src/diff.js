// diff.js — a line diff of two YAML texts (jsdiff), as a table of +/- lines.
import { diffLines } from 'diff';
import { h } from './dom.js';

export function diffView(a, b, nameA, nameB) {
  const parts = diffLines(a || '', b || '');
  const rows = [];
  for (const p of parts) {
    const lines = p.value.replace(/\n$/, '').split('\n');
    if (!p.added && !p.removed) {
      // unchanged: the first and last two lines around a change
      if (lines.length > 5) {
        rows.push(...lines.slice(0, 2).map((l) => ['same', l]), ['gap', `… ${lines.length - 4} unchanged lines …`],
          ...lines.slice(-2).map((l) => ['same', l]));
      } else rows.push(...lines.map((l) => ['same', l]));
    } else rows.push(...lines.map((l) => [p.added ? 'add' : 'del', l]));
  }
  return h('div', { class: 'diff' }, h('div', { class: 'diff-head' }, h('span', { class: 'del' }, `− ${nameA}`), ' ',
    h('span', { class: 'add' }, `+ ${nameB}`)),
  h('pre', {}, rows.map(([k, l]) => h('div', { class: `d-${k}` }, k === 'add' ? '+ ' : k === 'del' ? '− ' : '  ', l))));
}
