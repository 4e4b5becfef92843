// The projection panel: the selected map enlarged (a click on a pixel picks
// that unit), the model's input with the unit's receptive field, and the
// deconvnet projection of the unit in pixel space with the same box.

import { viridis, gray, paint, fmt } from './colormap.js';

const ZOOM = 168; // CSS side of the enlarged pictures

function zoomOf(h, w) {
  return Math.max(1, Math.floor(ZOOM / Math.max(h, w)));
}

// blit draws a small canvas onto a k-times larger one, pixels kept square.
function blit(target, small, k) {
  target.width = small.width * k;
  target.height = small.height * k;
  const ctx = target.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, target.width, target.height);
  return ctx;
}

function box(ctx, x0, y0, x1, y1, k, colour) {
  ctx.lineWidth = 2;
  ctx.strokeStyle = colour;
  ctx.strokeRect(x0 * k + 1, y0 * k + 1, (x1 - x0) * k - 2, (y1 - y0) * k - 2);
}

/** Projection owns the right-hand panel. */
export class Projection {
  /** @param {(y: number, x: number) => void} onPick */
  constructor(onPick) {
    this.onPick = onPick;
    this.panel = document.getElementById('projection');
    this.info = document.getElementById('projection-info');
    this.map = document.getElementById('projection-map');
    this.mapCaption = document.getElementById('projection-map-caption');
    this.input = document.getElementById('projection-input');
    this.inputBox = document.getElementById('projection-input-box');
    this.image = document.getElementById('projection-image');
    this.imageBox = document.getElementById('projection-image-box');
    this.peak = document.getElementById('projection-peak');
    this.min = document.getElementById('projection-min');
    this.max = document.getElementById('projection-max');
    this.url = null;
    this.selected = null; // {row, channel}
    this.inputFrame = null;
    this.map.addEventListener('click', (ev) => {
      if (!this.selected) return;
      const [h, w] = this.trueSize();
      const rect = this.map.getBoundingClientRect();
      const x = Math.floor(((ev.clientX - rect.left) / rect.width) * w);
      const y = Math.floor(((ev.clientY - rect.top) / rect.height) * h);
      onPick(Math.min(Math.max(y, 0), h - 1), Math.min(Math.max(x, 0), w - 1));
    });
    // Arrow keys move the selected unit of a map.
    this.map.addEventListener('keydown', (ev) => {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      const m = moves[ev.key];
      if (!m || !this.selected || !this.unit) return;
      const [h, w] = this.trueSize();
      if (h === 1 && w === 1) return;
      ev.preventDefault();
      const y = Math.min(Math.max(this.unit.y + m[0], 0), h - 1);
      const x = Math.min(Math.max(this.unit.x + m[1], 0), w - 1);
      if (y !== this.unit.y || x !== this.unit.x) onPick(y, x);
    });
  }

  /** trueSize is the selected layer's map size (frames of large maps are shrunk). */
  trueSize() {
    const maps = this.selected.row.info.maps;
    return maps.length === 3 ? [maps[1], maps[2]] : [1, 1];
  }

  /** setInput keeps the model's input frame for drawing boxes on it. */
  setInput(frame) {
    this.inputFrame = frame;
  }

  /**
   * select shows a layer's map enlarged while its projection is computed;
   * label names the channel (a class name for the logits).
   */
  select(row, channel, label) {
    this.selected = { row, channel, label };
    this.unit = null;
    this.panel.dataset.state = 'loading';
    this.drawMap(null);
    this.mapCaption.textContent = `${row.info.name} · ${label}`;
    this.info.textContent = `projecting ${row.info.name}, ${label}…`;
  }

  drawMap(unit) {
    const { row, channel } = this.selected;
    const { h, w, payload } = row.frame;
    const small = document.createElement('canvas');
    if (h === 1 && w === 1) {
      // a vector unit: show the whole layer as a strip, the unit boxed
      const n = row.frame.c;
      paint(small, payload, 1, n, viridis);
      const k = Math.max(1, Math.floor(ZOOM / n));
      const ctx = blit(this.map, small, k);
      box(ctx, channel, 0, channel + 1, 1, k, '#ff3b30');
      return;
    }
    paint(small, payload.subarray(channel * h * w, (channel + 1) * h * w), h, w, viridis);
    const k = zoomOf(h, w);
    const ctx = blit(this.map, small, k);
    if (unit) {
      // the unit in frame pixels (a shrunk frame's pixel holds several units)
      const [th, tw] = this.trueSize();
      const fy = (unit.y * h) / th;
      const fx = (unit.x * w) / tw;
      box(ctx, Math.floor(fx), Math.floor(fy), Math.floor(fx) + 1, Math.floor(fy) + 1, k, '#ff3b30');
    }
  }

  /** show draws a projection message and its PNG frame. */
  show(meta, frame) {
    if (!this.selected || !this.inputFrame) return;
    this.unit = meta.unit;
    this.drawMap(meta.unit);
    const [x0, y0, x1, y1] = meta.box;
    // the input with the receptive field
    const { c, h, w, payload } = this.inputFrame;
    const small = document.createElement('canvas');
    paint(small, payload, h, w, gray, c);
    const k = zoomOf(h, w);
    const ctx = blit(this.input, small, k);
    box(ctx, x0, y0, x1, y1, k, '#ff3b30');
    // the projection, with the same box on an overlay
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(new Blob([frame.payload], { type: 'image/png' }));
    this.image.style.width = `${w * k}px`;
    this.image.style.height = `${h * k}px`;
    this.image.dataset.ready = 'false';
    this.image.onload = () => {
      this.image.dataset.ready = 'true';
      this.panel.dataset.state = 'ready';
    };
    this.image.src = this.url;
    this.imageBox.width = w * k;
    this.imageBox.height = h * k;
    const octx = this.imageBox.getContext('2d');
    octx.clearRect(0, 0, w * k, h * k);
    box(octx, x0, y0, x1, y1, k, '#ff3b30');
    this.inputBox.width = 0; // the box is drawn into the input itself
    this.peak.textContent = `(±${fmt(meta.peak)})`;
    this.min.textContent = fmt(-meta.peak);
    this.max.textContent = fmt(meta.peak);
    const u = meta.unit;
    const vector = this.selected.row.frame.h === 1 && this.selected.row.frame.w === 1;
    const where = vector ? this.selected.label : `map ${u.channel}, unit (y ${u.y}, x ${u.x})`;
    const field = meta.whole ? 'sees the whole input' : `receptive field ${meta.rf}×${meta.rf}, box x ${x0}–${x1 - 1}, y ${y0}–${y1 - 1}`;
    const method = { deconvnet: 'deconvnet', gradient: 'gradient', guided: 'guided backpropagation' }[meta.method] || meta.method;
    this.info.textContent = `${meta.layer} · ${where}${meta.strongest ? ' (strongest)' : ''} · activation ${fmt(meta.activation)} · ${field} · ${method}`;
  }

  /** error shows a failed projection. */
  error(message) {
    this.panel.dataset.state = 'error';
    this.info.textContent = message;
  }

  /** clear forgets the selection (a new model). */
  clear() {
    this.selected = null;
    this.panel.dataset.state = 'empty';
  }
}
