// The arithmetic of one unit: how the selected unit was computed, with
// the real numbers of the latest run (the "arith" message of
// docs/PROTOCOL.md), drawn as CNN Explainer's formula view does: for a
// convolution each input channel's window beside the kernel's weights and
// their partial sum, then the sum plus the bias; for a pooling layer the
// window and the switch it kept; for an activation or a norm its formula.

import { t } from './i18n.js';

const fmt = (v) => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.001 ? v.toExponential(2) : v.toPrecision(3).replace(/\.?0+$/, '');
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** grid draws terms (one window) as a k×k table of value(s). */
function grid(terms, cell, caption, mark = -1) {
  const k = Math.max(...terms.map((term) => term.ky)) + 1;
  const w = Math.max(...terms.map((term) => term.kx)) + 1;
  const table = el('table', 'arith-grid');
  table.append(el('caption', '', caption));
  for (let y = 0; y < k; y++) {
    const tr = el('tr');
    for (let x = 0; x < w; x++) {
      const i = terms.findIndex((term) => term.ky === y && term.kx === x);
      const td = el('td');
      if (i >= 0) {
        td.textContent = cell(terms[i]);
        if (terms[i].padding) td.classList.add('pad');
        if (terms[i] === terms[mark]) td.classList.add('switch');
      }
      tr.append(td);
    }
    table.append(tr);
  }
  return table;
}

const MAX_CHANNELS = 6;

export class Arith {
  /** details is the <details> element, ask(layer, unit) sends the request. */
  constructor(details, body, ask) {
    this.details = details;
    this.body = body;
    this.ask = ask;
    this.target = null;
    details.addEventListener('toggle', () => {
      if (details.open && this.target) this.ask(this.target.layer, this.target.unit);
    });
  }

  /** select sets the unit to explain (null: none, as for a class). */
  select(layer, unit) {
    this.target = layer && unit ? { layer, unit } : null;
    this.details.hidden = !this.target;
    if (this.target && this.details.open) this.ask(layer, unit);
  }

  /** error shows why a unit has no arithmetic here. */
  error(message) {
    this.body.replaceChildren(el('p', 'hint', message));
  }

  /** show draws an arith message. */
  show(m) {
    this.body.replaceChildren(...drawUnit(m));
  }
}

/** drawUnit is the elements that show one unit's arithmetic (an arith message, or a unit of GET /learn/unit). */
export function drawUnit(m) {
  const out = [];
  const unit = m.layerType === 'Linear' ? t('js.explore.unit', { n: m.channel }) : t('js.explore.map_unit', { n: m.channel, y: m.y, x: m.x });
  out.push(el('p', 'hint', `${m.layer} (${m.layerType}), ${unit}: ${m.formula}`));
  if (m.kind === 'weighted') out.push(...weighted(m));
  else if (m.kind === 'max' || m.kind === 'average') {
    const caption = m.kind === 'max' ? t('js.explore.arith_window_max', { n: m.channel }) : t('js.explore.arith_window', { n: m.channel });
    out.push(grid(m.terms, (term) => fmt(term.value), caption, m.kind === 'max' ? m.switch : -1));
  } else {
    out.push(el('p', 'arith-line', `x = ${fmt(m.terms[0].value)}`));
  }
  const total = el('p', 'arith-total');
  total.textContent = `= ${fmt(m.result)} (${t('js.explore.arith_engine', { v: fmt(m.engine) })})`;
  total.dataset.testid = 'arith-result';
  out.push(total);
  return out;
}

/** weighted is a convolution's or a linear layer's terms, summed channel by channel. */
function weighted(m) {
  const out = [];
  if (m.layerType === 'Linear') {
    // a linear layer: its largest products
    const top = [...m.terms].sort((a, b) => Math.abs(b.product) - Math.abs(a.product)).slice(0, 12);
    const table = el('table', 'arith-list');
    table.append(el('caption', '', t('js.explore.arith_largest', { n: top.length, total: m.terms.length + (m.omitted || 0) })));
    for (const term of top) {
      const tr = el('tr');
      tr.append(el('td', '', `x${term.channel} = ${fmt(term.value)}`), el('td', '', `w = ${fmt(term.weight)}`), el('td', '', `w·x = ${fmt(term.product)}`));
      table.append(tr);
    }
    out.push(table);
  } else {
    const byChannel = new Map();
    for (const term of m.terms) {
      if (!byChannel.has(term.channel)) byChannel.set(term.channel, []);
      byChannel.get(term.channel).push(term);
    }
    const channels = [...byChannel.entries()];
    const shown = channels.slice(0, MAX_CHANNELS);
    const wrap = el('div', 'arith-channels');
    for (const [c, terms] of shown) {
      const part = terms.reduce((s, term) => s + term.product, 0);
      const box = el('div', 'arith-channel');
      box.append(
        grid(terms, (term) => fmt(term.value), t('js.explore.arith_input_channel', { c })),
        grid(terms, (term) => fmt(term.weight), t('js.explore.arith_weights')),
        el('p', 'arith-line', `Σ w·x = ${fmt(part)}`),
      );
      wrap.append(box);
    }
    out.push(wrap);
    const rest = channels.slice(MAX_CHANNELS).reduce((s, [, terms]) => s + terms.reduce((a, term) => a + term.product, 0), 0) + (m.omittedSum || 0);
    const restCount = channels.length - shown.length;
    if (restCount > 0 || m.omitted) {
      const more = restCount === 1 ? t('js.explore.arith_more_channel') : t('js.explore.arith_more_channels', { n: restCount });
      const smaller = t('js.explore.arith_smaller', { n: m.omitted });
      let what = restCount > 0 ? more : smaller;
      if (restCount > 0 && m.omitted) what = t('js.explore.arith_and', { a: more, b: smaller });
      out.push(el('p', 'arith-line', `+ ${t('js.explore.arith_rest', { v: fmt(rest), what })}`));
    }
  }
  if (m.hasBias) out.push(el('p', 'arith-line', `+ ${t('js.explore.arith_bias', { v: fmt(m.bias) })}`));
  return out;
}
