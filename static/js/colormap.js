// Colormaps as 256-entry lookup tables (Uint8Array of R,G,B triples), the
// same as package viz's: viridis from matplotlib's nine control points, and
// grey. Plus helpers that paint 8-bit maps and legend bars.

function interpolate(points) {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const f = (i / 255) * (points.length - 1);
    const j = Math.min(Math.floor(f), points.length - 2);
    const t = f - j;
    for (let k = 0; k < 3; k++) lut[3 * i + k] = Math.round(points[j][k] * (1 - t) + points[j + 1][k] * t);
  }
  return lut;
}

/** viridis is matplotlib's perceptually uniform map. */
export const viridis = interpolate([
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
]);

/** gray is black to white. */
export const gray = interpolate([[0, 0, 0], [255, 255, 255]]);

/**
 * paint draws an h×w plane of bytes through lut onto a canvas of that size.
 * With three planes (c = 3, CHW) it draws them as RGB instead.
 */
export function paint(canvas, bytes, h, w, lut, planes = 1) {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  const n = h * w;
  for (let i = 0; i < n; i++) {
    if (planes === 3) {
      img.data[4 * i] = bytes[i];
      img.data[4 * i + 1] = bytes[n + i];
      img.data[4 * i + 2] = bytes[2 * n + i];
    } else {
      const b = 3 * bytes[i];
      img.data[4 * i] = lut[b];
      img.data[4 * i + 1] = lut[b + 1];
      img.data[4 * i + 2] = lut[b + 2];
    }
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** legend draws lut left to right on a canvas (a colour bar). */
export function legend(canvas, lut) {
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    img.data.set([lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

/** rgb is the CSS colour of byte b through lut. */
export function rgb(lut, b) {
  return `rgb(${lut[3 * b]},${lut[3 * b + 1]},${lut[3 * b + 2]})`;
}

/** fmt prints an activation value compactly. */
export function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(a < 1 ? 3 : 2);
}
