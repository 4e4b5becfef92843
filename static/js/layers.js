// The layer tree of the explorer: one row per layer of the model, and a
// block (a ResNet stage or block, an Inception module, a MobileNet or
// ConvNeXt block) opens to the rows inside it, its side-by-side paths in
// columns (main path | shortcut, or an Inception module's four branches)
// and the rows where they meet (the addition, the concatenation) below.
// Rows fill as the server streams each layer's maps; a row draws only when
// it is on screen (one canvas per layer, maps.js). A click or Enter on a
// map selects it; arrow keys move between maps.

import { viridis, legend, fmt } from './colormap.js';
import { isVector, layout, draw, size, channelAt } from './maps.js';
import { t } from './i18n.js';

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** branchLabel names a column of an opened block. */
function branchLabel(branch, parent) {
  if (branch === 'main') return t('js.explore.main_path');
  if (branch === 'shortcut') return t('js.explore.shortcut');
  return branch.startsWith(parent + '.') ? branch.slice(parent.length + 1) : branch;
}

/** rfText describes a row's receptive field. */
export function rfText(info) {
  return info.whole ? t('js.explore.sees_whole_input') : t('js.explore.rf_short', { rf: info.rf, jump: info.jump });
}

/** Layers owns the #layers container. */
export class Layers {
  /**
   * @param {HTMLElement} root
   * @param {{select: (index: number, channel: number) => void,
   *          toggle: (name: string, open: boolean) => void}} on
   */
  constructor(root, on) {
    this.root = root;
    this.on = on;
    this.rows = [];
    this.byName = new Map();
    this.classes = [];
    this.selected = null; // {index, channel}
    this.visible = new Set(); // row indices on screen
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const i = Number(e.target.dataset.index);
        if (e.isIntersecting) {
          this.visible.add(i);
          this.paint(this.rows[i]);
        } else this.visible.delete(i);
      }
    }, { rootMargin: '200px 0px' });
    // A wider or narrower window redraws the rows on screen at their new
    // width (paint skips rows whose width did not change).
    let timer = 0;
    addEventListener('resize', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        for (const i of this.visible) this.paint(this.rows[i]);
      }, 150);
    });
  }

  /** reset builds the rows of a start message; blocks in open are opened. */
  reset(start, open) {
    this.classes = start.classes || [];
    this.observer.disconnect();
    this.visible.clear();
    this.root.replaceChildren();
    this.rows = start.layers.map((info, index) => ({ info, index, built: false, frame: null, meta: null, open: false }));
    this.byName = new Map(this.rows.map((r) => [r.info.name, r]));
    this.last = this.rows.findLast((r) => r.info.depth === 0);
    for (const r of this.rows) if (r.info.depth === 0) this.root.append(this.build(r));
    for (const r of this.rows) if (r.info.parts && open.has(r.info.name) && this.shown(r)) this.setOpen(r, true);
    this.root.dataset.run = start.run;
    this.updateReady();
  }

  /** shown tells whether a row's blocks are all open (or it is top-level). */
  shown(r) {
    for (let p = r.info.parent; p; p = this.byName.get(p)?.info.parent) {
      if (!this.byName.get(p)?.open) return false;
    }
    return true;
  }

  /** build makes a row's section (once). */
  build(r) {
    const { info, index } = r;
    const sec = el('section', {
      class: 'layer', 'data-testid': 'layer', 'data-index': index, 'data-name': info.name,
      'data-kind': info.type, 'data-ready': 'false', 'data-depth': info.depth,
    });
    const head = el('header', { class: 'layer-head' });
    // a dotted name may break after each dot, never inside a word
    const title = el('h3');
    info.name.split('.').forEach((part, i) => {
      if (i > 0) title.append('.', el('wbr'));
      title.append(part);
    });
    title.append(' ', el('span', { class: 'type' }, info.type));
    head.append(title);
    if (info.parts) {
      const b = el('button', {
        type: 'button', class: 'toggle secondary', 'data-testid': 'layer-toggle', 'aria-expanded': 'false',
        'aria-label': t('js.explore.open_block', { name: info.name, n: info.parts }),
      }, `▸ ${t('js.explore.inside', { n: info.parts })}`);
      b.addEventListener('click', () => {
        this.setOpen(r, !r.open);
        this.on.toggle(info.name, r.open);
      });
      head.append(b);
      r.toggle = b;
    }
    const shape = el('span', { class: 'shape', 'data-testid': 'layer-shape' }, info.maps.join('×'));
    const rf = el('span', { class: 'rf', title: t('js.explore.rf_title') }, rfText(info));
    const ms = el('span', { class: 'ms' });
    const lg = el('div', { class: 'legend', 'data-testid': 'layer-legend' });
    const lo = el('span', { class: 'min' }, '');
    const bar = el('canvas', { class: 'legend-bar', 'aria-hidden': 'true' });
    legend(bar, viridis);
    const hi = el('span', { class: 'max' }, '');
    lg.append(lo, bar, hi);
    head.append(shape, rf, ms, lg);
    if (info.from) {
      // a graph's node: the values it reads ("input" is its block's input)
      const names = info.from.map((f) => (f === '' ? t('js.explore.input') : f.startsWith(info.parent + '.') ? f.slice(info.parent.length + 1) : f));
      head.insertBefore(el('span', { class: 'from', 'data-testid': 'layer-from', title: t('js.explore.reads', { names: names.join(' + ') }) }, `← ${names.join(' + ')}`), shape);
    }
    const vector = isVector(info.maps);
    const body = el('div', { class: 'maps', 'data-testid': 'layer-maps' });
    const what = vector ? t('js.explore.n_values', { n: info.maps[0] }) : t('js.explore.n_maps', { n: info.maps[0] });
    const canvas = el('canvas', {
      class: `mapgrid pixelated${vector ? ' cells' : ''}`, tabindex: '0', role: 'img', 'data-testid': 'map-canvas',
      'aria-label': t('js.explore.maps_aria', { name: info.name, what }),
    });
    const hint = el('p', { class: 'hover', 'aria-hidden': 'true' }, '\u00a0');
    body.append(canvas, hint);
    sec.append(head, body);
    Object.assign(r, { sec, body, canvas, hint, lo, hi, ms, vector, built: true, cursor: undefined, geometry: null });
    canvas.addEventListener('click', (ev) => {
      const k = r.geometry ? channelAt(canvas, r.geometry, r.frame.c, ev.clientX, ev.clientY) : -1;
      if (k >= 0) {
        r.cursor = k;
        hint.textContent = this.describe(r, k);
        this.on.select(index, k);
      }
    });
    canvas.addEventListener('mousemove', (ev) => {
      const k = r.geometry ? channelAt(canvas, r.geometry, r.frame.c, ev.clientX, ev.clientY) : -1;
      hint.textContent = k >= 0 ? this.describe(r, k) : '\u00a0';
    });
    canvas.addEventListener('mouseleave', () => { hint.textContent = '\u00a0'; });
    canvas.addEventListener('keydown', (ev) => this.key(r, ev));
    canvas.addEventListener('focus', () => {
      if (!canvas.matches(':focus-visible')) return; // a click, not the keyboard
      if (r.cursor === undefined) r.cursor = this.selected?.index === index ? this.selected.channel : 0;
      this.paint(r, true);
      hint.textContent = this.describe(r, r.cursor);
    });
    canvas.addEventListener('blur', () => this.paint(r, true));
    this.observer.observe(sec);
    return sec;
  }

  /** describe names channel k of a row (a class name for the logits). */
  describe(r, k) {
    if (!r.frame) return '';
    if (r.vector) {
      const value = r.frame.min + ((r.frame.max - r.frame.min) * r.frame.payload[k]) / 255;
      const label = r === this.last && this.classes[k] ? this.classes[k] : t('js.explore.unit', { n: k });
      return `${label}: ${fmt(value)}`;
    }
    return t('js.explore.map_of', { k, n: r.frame.c });
  }

  /** key moves the keyboard's place among a row's maps, Enter selects. */
  key(r, ev) {
    if (!r.frame || !r.geometry) return;
    const c = r.frame.c;
    const cols = r.geometry.cols;
    let k = r.cursor ?? 0;
    switch (ev.key) {
      case 'ArrowRight': k = Math.min(c - 1, k + 1); break;
      case 'ArrowLeft': k = Math.max(0, k - 1); break;
      case 'ArrowDown': k = Math.min(c - 1, k + cols); break;
      case 'ArrowUp': k = Math.max(0, k - cols); break;
      case 'Home': k = 0; break;
      case 'End': k = c - 1; break;
      case 'Enter':
      case ' ':
        ev.preventDefault();
        this.on.select(r.index, k);
        return;
      default:
        return;
    }
    ev.preventDefault();
    r.cursor = k;
    r.hint.textContent = this.describe(r, k);
    this.paint(r, true);
  }

  /** setOpen shows or hides the rows inside a block, building them once. */
  setOpen(r, open) {
    if (!r.built) return;
    r.open = open;
    r.toggle.setAttribute('aria-expanded', String(open));
    r.toggle.textContent = `${open ? '▾' : '▸'} ${t('js.explore.inside', { n: r.info.parts })}`;
    const label = { name: r.info.name, n: r.info.parts };
    r.toggle.setAttribute('aria-label', open ? t('js.explore.close_block', label) : t('js.explore.open_block', label));
    r.sec.dataset.open = String(open);
    if (open && !r.inside) {
      r.inside = this.buildInside(r);
      r.sec.append(r.inside);
    }
    if (r.inside) r.inside.hidden = !open;
    // blocks inside that were open before open again with their parent
    for (const p of this.rows) if (p.info.parent === r.info.name && p.open && p.inside) p.inside.hidden = !open;
    this.updateReady();
  }

  /** buildInside lays out a block's parts: columns side by side, then the rest. */
  buildInside(r) {
    const inside = el('div', { class: 'inside', 'data-testid': 'layer-inside', 'data-block': r.info.name });
    let columns = null;
    let column = null;
    let branch = '';
    for (const p of this.rows) {
      if (p.info.parent !== r.info.name) continue;
      const b = p.info.branch || '';
      if (b !== branch) {
        branch = b;
        if (b) {
          if (!columns) {
            columns = el('div', { class: 'branches', 'data-testid': 'branches' });
            inside.append(columns);
          }
          column = el('div', { class: 'branch', 'data-testid': 'branch', 'data-branch': b });
          column.append(el('h4', {}, branchLabel(b, r.info.name)));
          columns.append(column);
        } else {
          columns = null;
          column = null;
        }
      }
      (column || inside).append(this.build(p));
      if (p.frame) this.fill(p);
    }
    return inside;
  }

  /** meta records a layer message (min, max, time) before its maps come. */
  meta(msg) {
    const r = this.rows[msg.index];
    if (!r) return;
    r.meta = msg;
    if (!r.built) return;
    r.lo.textContent = fmt(msg.min);
    r.hi.textContent = fmt(msg.max);
    r.ms.textContent = msg.ms > 0 ? `${msg.ms.toFixed(2)} ms` : '';
  }

  /** maps keeps a layer's binary frame and draws it when on screen. */
  maps(frame) {
    const r = this.rows[frame.index];
    if (!r) return;
    r.frame = frame;
    r.drawn = null;
    if (r.built) this.fill(r);
    this.updateReady();
  }

  fill(r) {
    if (r.meta) this.meta(r.meta);
    r.sec.dataset.ready = 'true';
    if (this.visible.has(r.index)) {
      this.paint(r);
      return;
    }
    // Off screen: take the room now, draw when it scrolls into view.
    const width = r.body.clientWidth;
    if (width > 0) size(r.canvas, layout(r.frame, width, r.vector));
  }

  /** paint draws a row's frame at the current width (again when forced). */
  paint(r, force = false) {
    if (!r?.frame || !r.built) return;
    const width = r.body.clientWidth;
    if (width === 0) return; // hidden; drawn when shown
    if (!force && r.drawn === r.frame && r.drawnWidth === width) return;
    r.geometry = layout(r.frame, width, r.vector);
    const sel = this.selected?.index === r.index ? this.selected.channel : undefined;
    const cursor = document.activeElement === r.canvas ? r.cursor : undefined;
    draw(r.canvas, r.frame, r.geometry, sel, cursor);
    r.drawn = r.frame;
    r.drawnWidth = width;
    r.sec.dataset.drawn = 'true';
  }

  /** updateReady marks the container ready when every shown row has its maps. */
  updateReady() {
    const ready = this.rows.length > 0 && this.rows.every((r) => r.frame || !this.shown(r));
    if (ready && this.root.dataset.ready !== 'true') this.root.dataset.readyAt = performance.now();
    this.root.dataset.ready = String(ready);
  }

  /** get returns a row by index. */
  get(index) {
    return this.rows[index];
  }

  /** named returns a row by layer name. */
  named(name) {
    return this.byName.get(name);
  }

  /** isLast tells whether a row is the model's output. */
  isLast(r) {
    return r === this.last;
  }

  /** highlight marks the selected map or cell. */
  highlight(index, channel) {
    const old = this.selected && this.rows[this.selected.index];
    this.selected = { index, channel };
    if (old && old.index !== index) this.paint(old, true);
    this.paint(this.rows[index], true);
  }
}
