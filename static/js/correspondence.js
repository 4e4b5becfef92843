// Table 1's page: drag a box on each picture to choose its part; the box
// is written into that picture's x0,y0,x1,y1 field (which can be typed in
// too), and drawn over the picture.

const parts = document.querySelector('[data-testid="correspondence-parts"]');
if (parts) {
  const size = Number(parts.dataset.size);
  for (const picker of parts.querySelectorAll('.part-picker')) setUp(picker, size);
}

/** parse reads "x0,y0,x1,y1", or null. */
function parse(text) {
  const v = text.split(',').map((s) => Number(s.trim()));
  return v.length === 4 && v.every(Number.isInteger) ? v : null;
}

function setUp(picker, size) {
  const frame = picker.querySelector('.part-frame');
  const img = frame.querySelector('img');
  const box = frame.querySelector('.part-box');
  const input = picker.querySelector('input');
  const draw = () => {
    const v = parse(input.value);
    box.hidden = !v;
    if (!v) return;
    const [x0, y0, x1, y1] = v;
    Object.assign(box.style, {
      left: `${(100 * x0) / size}%`, top: `${(100 * y0) / size}%`,
      width: `${(100 * (x1 - x0)) / size}%`, height: `${(100 * (y1 - y0)) / size}%`,
    });
  };
  // the pixel under a pointer, in the model's input
  const at = (ev) => {
    const r = img.getBoundingClientRect();
    const px = (v, lo, len) => Math.min(size, Math.max(0, Math.round(((v - lo) / len) * size)));
    return [px(ev.clientX, r.left, r.width), px(ev.clientY, r.top, r.height)];
  };
  let start = null;
  frame.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    start = at(ev);
    frame.setPointerCapture(ev.pointerId);
  });
  frame.addEventListener('pointermove', (ev) => {
    if (!start) return;
    const [x, y] = at(ev);
    const x0 = Math.min(start[0], x), y0 = Math.min(start[1], y);
    const x1 = Math.max(start[0], x, x0 + 1), y1 = Math.max(start[1], y, y0 + 1);
    input.value = `${x0},${y0},${Math.min(size, x1)},${Math.min(size, y1)}`;
    draw();
  });
  frame.addEventListener('pointerup', () => { start = null; });
  input.addEventListener('input', draw);
  draw();
}
