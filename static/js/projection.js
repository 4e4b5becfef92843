// The projection panel: the selected map enlarged (a click on a pixel picks
// that unit), the model's input with the unit's receptive field, and the
// attribution in pixel space (any method of deconv: a signed picture, or a
// heat map over the input) with the same box and, as Zeiler & Fergus show
// projections, the field cropped and enlarged; a progress bar for long
// methods, and a download of the view with its caption.

import { viridis, gray, paint, fmt } from './colormap.js';
import { t } from './i18n.js';

const ZOOM = 168; // CSS side of the enlarged map and field
const PAIR = 128; // CSS side of the input and the attribution, side by side

function zoomOf(h, w, side = ZOOM) {
  return Math.max(1, Math.floor(side / Math.max(h, w)));
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

/** save offers a blob to the visitor as a file called name. */
function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
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
    this.legendBar = document.getElementById('projection-legend-bar');
    this.scale = document.getElementById('projection-scale');
    this.what = document.getElementById('projection-what');
    this.progress = document.getElementById('projection-progress');
    this.crop = document.getElementById('projection-crop');
    this.cropFigure = document.getElementById('projection-crop-figure');
    this.caption = ''; // names model, input, target and method: the download's
    this.last = null; // {meta, img} of the latest whole attribution
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
    this.panel.dataset.target = 'unit';
    this.panel.dataset.state = 'loading';
    this.drawMap(null);
    this.mapCaption.textContent = `${row.info.name} · ${label}`;
    this.info.textContent = t('js.explore.projecting', { layer: row.info.name, label });
  }

  /** explainClass readies the panel for a class's attribution. */
  explainClass(label) {
    this.panel.dataset.target = 'class';
    this.panel.dataset.state = 'loading';
    this.info.textContent = t('js.explore.explaining', { label });
  }

  /** asking marks the picture shown as stale: a new one is on its way. */
  asking() {
    this.image.dataset.ready = 'false';
    if (this.panel.dataset.state !== 'empty') this.panel.dataset.state = 'loading';
  }

  /** working shows a long method's progress (done of total passes). */
  working(done, total, method) {
    this.progress.hidden = false;
    this.progress.max = total;
    this.progress.value = done;
    this.info.textContent = t('js.explore.passes', { method, done, total });
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

  /**
   * show draws a projection message and its PNG frame; title is the
   * method's label, and context names the model and the input (for the
   * caption). It resolves with the picture once drawn.
   */
  show(meta, frame, title, context) {
    if (!this.inputFrame) return;
    const unitTarget = meta.class < 0;
    if (unitTarget && !this.selected) return;
    this.panel.dataset.target = unitTarget ? 'unit' : 'class';
    if (unitTarget) {
      this.unit = meta.unit;
      this.drawMap(meta.unit);
    }
    const boxed = unitTarget && !meta.whole;
    const [x0, y0, x1, y1] = meta.box;
    // the input, with the receptive field
    const { c, h, w, payload } = this.inputFrame;
    const small = document.createElement('canvas');
    paint(small, payload, h, w, gray, c);
    const k = zoomOf(h, w, PAIR);
    const ctx = blit(this.input, small, k);
    if (boxed) box(ctx, x0, y0, x1, y1, k, '#ff3b30');
    // the attribution, with the same box on an overlay
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(new Blob([frame.payload], { type: 'image/png' }));
    this.image.classList.toggle('pixelated', !meta.heat); // a heat map is smooth
    this.image.style.width = `${w * k}px`;
    this.image.style.height = `${h * k}px`;
    this.image.dataset.ready = 'false';
    const url = this.url;
    const drawn = new Promise((resolve) => {
      this.image.onload = () => {
        // A picture asked for before this one may finish loading late.
        if (this.image.src !== url) return;
        this.image.dataset.ready = meta.partial ? 'partial' : 'true';
        if (!meta.partial) {
          this.panel.dataset.state = 'ready';
          this.progress.hidden = true;
          this.last = { meta, img: this.image };
          this.drawCrop(meta, boxed);
        }
        resolve(this.image);
      };
    });
    this.image.src = this.url;
    this.imageBox.width = w * k;
    this.imageBox.height = h * k;
    const octx = this.imageBox.getContext('2d');
    octx.clearRect(0, 0, w * k, h * k);
    if (boxed) box(octx, x0, y0, x1, y1, k, '#ff3b30');
    this.inputBox.width = 0; // the box is drawn into the input itself
    this.what.textContent = meta.heat ? t('js.explore.over_the_input', { method: title }) : title;
    if (meta.heat) {
      this.legendBar.className = 'legend-bar viridis';
      this.peak.textContent = '';
      this.min.textContent = fmt(meta.lo);
      this.max.textContent = fmt(meta.hi);
      const range = { grid: meta.shape.join('×'), lo: fmt(meta.lo), hi: fmt(meta.hi) };
      const occlusion = unitTarget ? t('js.explore.scale_occlusion_unit', range) : t('js.explore.scale_occlusion_class', range);
      this.scale.textContent = meta.method === 'occlusion' ? occlusion : t('js.explore.scale_heat', range);
    } else {
      this.legendBar.className = 'legend-bar gray';
      this.peak.textContent = `(±${fmt(meta.peak)})`;
      this.min.textContent = fmt(-meta.peak);
      this.max.textContent = fmt(meta.peak);
      const peak = { peak: fmt(meta.peak) };
      this.scale.textContent = c === 3 ? t('js.explore.scale_signed_rgb', peak) : t('js.explore.scale_signed', peak);
    }
    if (meta.partial) {
      this.working(meta.done, meta.total, title);
      return drawn;
    }
    if (meta.notes?.length) this.scale.textContent += t('js.explore.notes', { notes: meta.notes.join('; ') });
    const target = unitTarget ? this.unitText(meta) : this.classText(meta, context.classes);
    this.info.textContent = `${target} · ${title}`;
    this.caption = `convscope · ${context.model} · ${context.input} · ${unitTarget ? this.unitText(meta) : target} · ${title}`;
    return drawn;
  }

  /** classText describes a class target: "class 7 (Sneaker) at c3 · logit 2.31". */
  classText(meta, classes) {
    const name = classes?.[meta.class];
    let target = name ? t('js.explore.class_named', { k: meta.class, name }) : t('js.explore.class', { k: meta.class });
    if (meta.layer) target = t('js.explore.at_layer', { target, layer: meta.layer });
    return `${target} · ${t('js.explore.logit', { v: fmt(meta.activation) })}`;
  }

  unitText(meta) {
    const u = meta.unit;
    const vector = this.selected.row.frame.h === 1 && this.selected.row.frame.w === 1;
    const where = vector ? this.selected.label : t('js.explore.map_unit_yx', { n: u.channel, y: u.y, x: u.x });
    const [x0, y0, x1, y1] = meta.box;
    const field = meta.whole
      ? t('js.explore.sees_whole_input')
      : t('js.explore.field_box', { rf: meta.rf, x0, x1: x1 - 1, y0, y1: y1 - 1 });
    const unit = meta.strongest ? t('js.explore.strongest', { unit: where }) : where;
    return `${meta.layer} · ${unit} · ${t('js.explore.activation', { v: fmt(meta.activation) })} · ${field}`;
  }

  /** drawCrop shows the attribution inside the unit's field, enlarged. */
  drawCrop(meta, boxed) {
    this.cropFigure.hidden = !boxed || meta.heat;
    if (this.cropFigure.hidden) return;
    const [x0, y0, x1, y1] = meta.box;
    const side = Math.max(x1 - x0, y1 - y0);
    const k = Math.max(1, Math.floor(ZOOM / side));
    this.crop.width = (x1 - x0) * k;
    this.crop.height = (y1 - y0) * k;
    const ctx = this.crop.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    const sx = this.image.naturalWidth / this.inputFrame.w; // the PNG's pixels per input pixel
    ctx.drawImage(this.image, x0 * sx, y0 * sx, (x1 - x0) * sx, (y1 - y0) * sx, 0, 0, this.crop.width, this.crop.height);
  }

  /** setNumbers keeps a whole attribution's numbers for downloadNumbers. */
  setNumbers(meta, frame) {
    this.numbers = { meta, frame };
  }

  /**
   * downloadNumbers saves the latest attribution's numbers as a NumPy
   * .npy file: float32, shape (1, C, H, W), as convscope attribute's
   * safetensors holds them.
   */
  downloadNumbers() {
    if (!this.numbers) return;
    const { meta, frame } = this.numbers;
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, ${frame.c}, ${frame.h}, ${frame.w}), }`;
    // magic (6) + version (2) + length (2) + header, padded to 64 with '\n' last
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const head = new Uint8Array(10 + header.length);
    head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY 1.0
    new DataView(head.buffer).setUint16(8, header.length, true);
    for (let i = 0; i < header.length; i++) head[10 + i] = header.charCodeAt(i);
    const name = `convscope-${meta.layer || `class${meta.class}`}-${meta.method}.npy`.replace(/[^\w.-]+/g, '_');
    save(new Blob([head, frame.payload], { type: 'application/octet-stream' }), name);
  }

  /**
   * download saves the view as a PNG: the input, the attribution (and its
   * cropped field) side by side, the colour scale and the caption.
   */
  download() {
    if (!this.last) return;
    const parts = [this.input, this.image];
    if (!this.cropFigure.hidden) parts.push(this.crop);
    const side = 224;
    const pad = 12;
    const lines = [this.caption, this.scale.textContent];
    const out = document.createElement('canvas');
    out.width = parts.length * (side + pad) + pad;
    out.height = side + 2 * pad + 18 * lines.length + pad;
    const ctx = out.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, out.width, out.height);
    parts.forEach((p, i) => {
      ctx.imageSmoothingEnabled = p === this.image && this.last.meta.heat;
      const wd = p.naturalWidth || p.width;
      const ht = p.naturalHeight || p.height;
      const f = side / Math.max(wd, ht);
      ctx.drawImage(p, pad + i * (side + pad), pad, wd * f, ht * f);
    });
    ctx.fillStyle = '#111';
    ctx.font = '13px sans-serif';
    lines.forEach((line, i) => ctx.fillText(line, pad, side + 2 * pad + 14 + 18 * i, out.width - 2 * pad));
    const m = this.last.meta;
    out.toBlob((blob) => save(blob, `convscope-${m.layer || `class${m.class}`}-${m.method}.png`.replace(/[^\w.-]+/g, '_')), 'image/png');
  }

  /** error shows a failed projection. */
  error(message) {
    this.panel.dataset.state = 'error';
    this.progress.hidden = true;
    this.info.textContent = message;
  }

  /** clear forgets the selection (a new model). */
  clear() {
    this.selected = null;
    this.panel.dataset.state = 'empty';
  }
}
