// The lessons' scripts.
import { t } from './i18n.js';
import { drawUnit } from './arith.js';

// A form of sliders (the MobileNet lesson's multipliers) shows each
// slider's value as it moves and counts again when it rests.
for (const form of document.querySelectorAll('form.multipliers')) {
  for (const range of form.querySelectorAll('input[type="range"]')) {
    const out = range.parentElement.querySelector('output');
    range.addEventListener('input', () => {
      if (out) out.textContent = range.name === 'alpha' && range.value === '1' ? '1.0' : range.value;
    });
    range.addEventListener('change', () => form.requestSubmit());
  }
}

// A section's maps (img.unit-map, drawn by viz's Maps.Grid: Cols tiles a
// row, each H×W map pixels of Scale screen pixels with one map pixel
// between tiles) and its unit panel: a click on a map, or the panel's
// form, asks GET /learn/unit how that unit was computed, and the answer is
// drawn as the explorer draws it, followed back through activations and
// norms to the weighted sum or pooling window under them.
for (const panel of document.querySelectorAll('[data-unit-panel]')) {
  const section = panel.closest('section') || document;
  const images = [...section.querySelectorAll('img.unit-map')];
  const form = panel.querySelector('[data-unit-form]');
  const body = panel.querySelector('[data-unit-body]');
  const field = (name) => form.elements.namedItem(name);
  let asked = 0;

  const limit = () => {
    const img = images[Number(field('layer').value) || 0];
    field('channel').max = Number(img.dataset.channels) - 1;
    field('y').max = Number(img.dataset.h) - 1;
    field('x').max = Number(img.dataset.w) - 1;
  };

  async function ask() {
    const img = images[Number(field('layer').value) || 0];
    if (!img) return;
    const q = new URLSearchParams({
      model: img.dataset.model,
      sample: img.dataset.sample,
      layer: img.dataset.layer,
      channel: field('channel').value,
      y: field('y').value,
      x: field('x').value,
      lang: document.documentElement.lang || 'en',
    });
    const mine = ++asked;
    body.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: t('js.lesson.unit.loading') }));
    const res = await fetch(`/learn/unit?${q}`);
    const answer = await res.json().catch(() => ({ error: res.statusText }));
    if (mine !== asked) return; // a later question is on its way
    if (!res.ok) {
      body.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: answer.error }));
      return;
    }
    const out = [];
    answer.units.forEach((u, i) => {
      if (i > 0) out.push(Object.assign(document.createElement('p'), { className: 'arith-from', textContent: t('js.lesson.unit.from') }));
      const part = document.createElement('div');
      part.className = 'arith-unit';
      part.dataset.testid = 'lesson-unit-part';
      part.append(...drawUnit(u));
      out.push(part);
    });
    body.replaceChildren(...out);
  }

  images.forEach((img, i) => {
    img.addEventListener('click', (ev) => {
      const d = img.dataset;
      const [h, w, cols, scale] = [d.h, d.w, d.cols, d.scale].map(Number);
      // the click in the picture's own pixels, whatever its size on screen
      const px = (ev.offsetX * img.naturalWidth) / img.clientWidth;
      const py = (ev.offsetY * img.naturalHeight) / img.clientHeight;
      const col = Math.floor(px / ((w + 1) * scale));
      const row = Math.floor(py / ((h + 1) * scale));
      const x = Math.floor((px - col * (w + 1) * scale) / scale);
      const y = Math.floor((py - row * (h + 1) * scale) / scale);
      const channel = row * cols + col;
      if (x >= w || y >= h || col >= cols || channel >= Number(d.channels)) return; // the gap between maps
      field('layer').value = String(i);
      limit();
      Object.assign(field('channel'), { value: channel });
      Object.assign(field('y'), { value: y });
      Object.assign(field('x'), { value: x });
      panel.open = true;
      ask();
    });
  });
  field('layer').addEventListener('change', limit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ask();
  });
  limit();
}
