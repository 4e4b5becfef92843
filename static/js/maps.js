// One canvas per layer: every feature map of the layer as a tile of one
// picture (CNN Explainer draws thousands of elements; one canvas stays fast
// for VGG-16's 64 maps of 224x224), or, for a vector, one strip of cells.
// Large maps are shrunk by taking the maximum of each block of pixels, so a
// sparse activation stays visible. It knows the geometry, so clicks and
// keys map back to a channel.

import { viridis } from './colormap.js';

const TILE = 64; // largest tile side in map pixels; larger maps are shrunk
const TILE_CSS = 72; // target tile side in CSS pixels for small maps

/** isVector tells whether a maps shape (C,H,W) or (F) is drawn as cells. */
export function isVector(shape) {
  return shape.length === 1 || (shape.length === 3 && shape[1] === 1 && shape[2] === 1);
}

/**
 * layout is where each channel's tile (or cell) goes in a canvas no wider
 * than width CSS pixels: {vector, cols, rows, tw, th (a tile in canvas pixels),
 * gap, scale (CSS pixels a canvas pixel)}.
 */
export function layout(frame, width, vector) {
  const { c, h, w } = frame;
  if (vector) {
    // four canvas pixels a cell, so that an outline leaves its colour visible
    const css = c <= 128 ? 12 : c <= 1024 ? 6 : 4;
    const cols = Math.max(1, Math.min(c, Math.floor(width / css)));
    return { vector, cols, rows: Math.ceil(c / cols), tw: 4, th: 4, gap: 0, scale: css / 4 };
  }
  const step = Math.max(1, Math.ceil(Math.max(h, w) / TILE));
  const tw = Math.ceil(w / step);
  const th = Math.ceil(h / step);
  const gap = 1;
  const target = width < 400 ? TILE_CSS / 2 : TILE_CSS; // narrow columns get smaller tiles
  const scale = Math.max(1, Math.floor(target / Math.max(tw, th)));
  const cols = Math.max(1, Math.min(c, Math.floor(width / ((tw + gap) * scale))));
  return { vector, cols, rows: Math.ceil(c / cols), tw, th, gap, scale };
}

/**
 * draw paints frame into canvas with geometry g, outlining channel
 * `selected` (red) and `cursor` (the keyboard's place, dashed) when set.
 */
export function draw(canvas, frame, g, selected, cursor) {
  const { c, h, w, payload } = frame;
  const { cols, rows, tw, th, gap, scale } = g;
  size(canvas, g);
  Object.assign(canvas.dataset, { count: c, cols, rows });
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(canvas.width, canvas.height);
  const out = img.data;
  const stride = canvas.width * 4;
  for (let k = 0; k < c; k++) {
    const ox = (k % cols) * (tw + gap);
    const oy = Math.floor(k / cols) * (th + gap);
    const plane = k * h * w;
    for (let ty = 0; ty < th; ty++) {
      const y0 = Math.floor((ty * h) / th);
      const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / th));
      for (let tx = 0; tx < tw; tx++) {
        const x0 = Math.floor((tx * w) / tw);
        const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / tw));
        let b = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) b = Math.max(b, payload[plane + y * w + x]);
        }
        const o = (oy + ty) * stride + (ox + tx) * 4;
        out[o] = viridis[3 * b];
        out[o + 1] = viridis[3 * b + 1];
        out[o + 2] = viridis[3 * b + 2];
        out[o + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  const outline = (k, colour, dashed) => {
    if (k === undefined || k < 0 || k >= c) return;
    const ox = (k % cols) * (tw + gap);
    const oy = Math.floor(k / cols) * (th + gap);
    const lw = g.vector ? 1 : Math.max(1, Math.round(2 / scale)) * (tw >= 32 ? 2 : 1);
    ctx.lineWidth = lw;
    ctx.strokeStyle = colour;
    ctx.setLineDash(dashed ? [2 * lw, 2 * lw] : []);
    ctx.strokeRect(ox + lw / 2, oy + lw / 2, tw - lw, th - lw);
  };
  outline(cursor, '#ffffff', true);
  outline(selected, '#ff3b30', false);
}

/**
 * size gives canvas the size the maps of geometry g take, before or
 * without drawing them: a row drawn later, when it scrolls into view, then
 * does not move what is below it.
 */
export function size(canvas, g) {
  canvas.width = g.cols * (g.tw + g.gap);
  canvas.height = g.rows * (g.th + g.gap);
  canvas.style.width = `${canvas.width * g.scale}px`;
  canvas.style.height = `${canvas.height * g.scale}px`;
}

/** channelAt is the channel under a point of the canvas's box, or -1. */
export function channelAt(canvas, g, c, clientX, clientY) {
  const r = canvas.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return -1;
  const x = ((clientX - r.left) / r.width) * canvas.width;
  const y = ((clientY - r.top) / r.height) * canvas.height;
  const col = Math.floor(x / (g.tw + g.gap));
  const row = Math.floor(y / (g.th + g.gap));
  if (col < 0 || col >= g.cols || row < 0) return -1;
  const k = row * g.cols + col;
  return k < c ? k : -1;
}
