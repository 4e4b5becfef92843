// The layer rows of the explorer: one row per layer of the model, filled
// as the server streams each layer's maps. Feature maps (C×H×W with H, W >
// 1) become tiles on one shared colour scale per layer; vectors (and 1×1
// maps) become a strip of cells. A click selects a map (or cell).

import { viridis, paint, legend, rgb, fmt } from './colormap.js';

const TILE = 84; // target tile side in CSS pixels

/** isVector tells whether a per-sample shape is drawn as a strip of cells. */
export function isVector(shape) {
  return shape.length === 1 || (shape.length === 3 && shape[1] === 1 && shape[2] === 1);
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Layers owns the #layers container. */
export class Layers {
  /**
   * @param {HTMLElement} root
   * @param {(index: number, channel: number) => void} onSelect
   */
  constructor(root, onSelect) {
    this.root = root;
    this.onSelect = onSelect;
    this.rows = [];
    this.classes = [];
  }

  /** reset builds one empty row per layer of a start message. */
  reset(start) {
    this.classes = start.classes || [];
    this.root.replaceChildren();
    this.rows = start.layers.map((info, i) => this.row(info, i, i === start.layers.length - 1));
    this.root.dataset.run = start.run;
    this.root.dataset.ready = 'false';
  }

  row(info, index, last) {
    const sec = el('section', {
      class: 'layer', 'data-testid': 'layer', 'data-index': index, 'data-name': info.name,
      'data-kind': info.type, 'data-ready': 'false',
    });
    const head = el('header', { class: 'layer-head' });
    const title = el('h3', {}, info.name);
    title.append(' ', el('span', { class: 'type' }, info.type));
    const shape = el('span', { class: 'shape', 'data-testid': 'layer-shape' }, info.output.join('×'));
    const rf = el('span', { class: 'rf', title: 'receptive field side and jump, in input pixels' },
      info.jump > 0 ? `RF ${info.rf}×${info.rf} · jump ${info.jump}` : 'RF whole input');
    const ms = el('span', { class: 'ms' });
    const lg = el('div', { class: 'legend', 'data-testid': 'layer-legend' });
    const lo = el('span', { class: 'min' }, '');
    const bar = el('canvas', { class: 'legend-bar' });
    legend(bar, viridis);
    const hi = el('span', { class: 'max' }, '');
    lg.append(lo, bar, hi);
    head.append(title, shape, rf, ms, lg);
    const body = el('div', { class: isVector(info.output) ? 'cells' : 'tiles', 'data-testid': 'layer-maps' });
    sec.append(head, body);
    this.root.append(sec);
    return { sec, body, lo, hi, ms, info, last, frame: null, meta: null };
  }

  /** meta records a layer message (min, max, time) before its maps come. */
  meta(msg) {
    const r = this.rows[msg.index];
    if (!r) return;
    r.meta = msg;
    r.lo.textContent = fmt(msg.min);
    r.hi.textContent = fmt(msg.max);
    r.ms.textContent = `${msg.ms.toFixed(2)} ms`;
  }

  /** maps draws a layer's binary frame. */
  maps(frame) {
    const r = this.rows[frame.index];
    if (!r) return;
    r.frame = frame;
    r.body.replaceChildren();
    const { c, h, w, payload } = frame;
    if (isVector(r.info.output)) {
      for (let k = 0; k < c; k++) {
        const label = r.last && this.classes[k] ? `${this.classes[k]}: ` : `unit ${k}: `;
        const value = frame.min + ((frame.max - frame.min) * payload[k]) / 255;
        const cell = el('span', { class: 'cell', 'data-testid': 'map-cell', 'data-channel': k, title: label + fmt(value) });
        cell.style.background = rgb(viridis, payload[k]);
        cell.addEventListener('click', () => this.onSelect(frame.index, k));
        r.body.append(cell);
      }
    } else {
      const scale = Math.max(1, Math.floor(TILE / Math.max(h, w)));
      for (let k = 0; k < c; k++) {
        const canvas = el('canvas', { class: 'tile pixelated', 'data-testid': 'map-tile', 'data-channel': k, title: `${r.info.name} map ${k}` });
        paint(canvas, payload.subarray(k * h * w, (k + 1) * h * w), h, w, viridis);
        canvas.style.width = `${w * scale}px`;
        canvas.style.height = `${h * scale}px`;
        canvas.addEventListener('click', () => this.onSelect(frame.index, k));
        r.body.append(canvas);
      }
    }
    r.sec.dataset.ready = 'true';
    if (this.rows.every((row) => row.frame)) this.root.dataset.ready = 'true';
  }

  /** get returns a layer's info, meta and frame. */
  get(index) {
    return this.rows[index];
  }

  /** highlight marks the selected map or cell. */
  highlight(index, channel) {
    for (const e of this.root.querySelectorAll('.selected')) e.classList.remove('selected');
    const r = this.rows[index];
    const t = r?.body.querySelector(`[data-channel="${channel}"]`);
    t?.classList.add('selected');
  }
}
