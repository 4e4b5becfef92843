// The live training page: the recipe form follows the chosen model's
// defaults, and the watched run's frames (server-sent events) redraw its
// curves, pictures and per-epoch tables. Its words come from the
// catalogues (js.training.*, see i18n.js).

import { t, lang } from './i18n.js';

const form = document.querySelector('[data-testid="train-form"]');
if (form) {
  const model = form.querySelector('[name="model"]');
  model.addEventListener('change', () => {
    const d = JSON.parse(model.selectedOptions[0].dataset.defaults);
    const set = (name, v) => { const el = form.querySelector(`[name="${name}"]`); if (el) el.value = v; };
    set('epochs', d.epochs); set('batch', d.batch); set('opt', d.optimizer); set('lr', d.lr);
    set('schedule', d.schedule); set('warmup', d.warmup || 0); set('wd', d.weight_decay);
    set('smoothing', d.label_smoothing || 0); set('ema', d.ema || 0); set('augment', d.augment); set('crop_padding', d.crop_padding || 0);
    set('erase', d.erase || 0);
    set('seed', d.seed);
    // a fine-tune starts from a trained model of the same architecture
    const from = form.querySelector('[name="from"]');
    for (const o of from.options) if (o.value) o.hidden = o.dataset.model !== model.value;
    if (from.selectedOptions[0]?.hidden) from.value = '';
    // the architecture lab's suggestions are the model's own
    const list = document.getElementById('train-variants');
    list.replaceChildren(...JSON.parse(model.selectedOptions[0].dataset.variants).map((v) => new Option(v, v)));
    for (const name of ['variant', 'variant_b']) set(name, '');
  });
}

const live = document.querySelector('#live');
if (live) watch(live);

const SVG = 'http://www.w3.org/2000/svg';

// a run's states as the page names them (data-state keeps the protocol's)
const states = {
  queued: t('js.training.state_queued'),
  running: t('js.training.state_running'),
  paused: t('js.training.state_paused'),
  stopped: t('js.training.state_stopped'),
  finished: t('js.training.state_finished'),
  failed: t('js.training.state_failed'),
};

// queuedText is a waiting run's state with its place in line.
function queuedText(ahead) {
  return ahead === 1 ? t('js.training.queued_one') : t('js.training.queued_many', { n: ahead });
}

function watch(s) {
  const steps = [];
  const epochs = [];
  const q = (id) => s.querySelector(`[data-testid="${id}"]`);
  // the buttons act without leaving the page; the stream shows the result
  for (const f of s.querySelectorAll('.live-controls form')) {
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const res = await fetch(f.action, { method: 'POST', headers: { Accept: 'application/json' } });
      if (!res.ok) q('train-message').textContent = (await res.json()).error;
    });
  }
  // the stream's messages in the page's language
  const source = new EventSource(`/train/runs/${s.dataset.run}/events?lang=${encodeURIComponent(lang)}`);
  // a link keeps the language the URL chose
  const urlLang = new URLSearchParams(location.search).get('lang');
  source.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    switch (f.type) {
      case 'state':
        s.dataset.state = f.state;
        controls(f.state);
        q('train-state').textContent = f.state === 'queued' && f.position > 0 ? queuedText(f.position) : (states[f.state] || f.state);
        q('train-message').textContent = f.message || '';
        if (f.result) {
          const a = q('train-explore');
          a.href = `/?model=${encodeURIComponent(f.result)}${urlLang ? `&lang=${encodeURIComponent(urlLang)}` : ''}`;
          a.hidden = false;
        }
        break;
      case 'step':
        steps.push(f);
        q('train-progress').value = ((f.epoch - 1) + f.step / f.steps) / f.epochs;
        q('train-figures').textContent = t('js.training.figures', {
          epoch: f.epoch, epochs: f.epochs, step: f.step, steps: f.steps, loss: f.loss.toFixed(4), accuracy: f.accuracy.toFixed(4),
          lr: f.lr.toPrecision(3), speed: Math.round(f.imagesPerSec), eta: eta(f.etaSeconds),
        });
        s.dataset.steps = steps.length;
        draw();
        break;
      case 'epoch':
        epochs.push(f);
        s.dataset.epochs = epochs.length;
        table(f);
        draw();
        break;
      case 'filters':
      case 'probe': {
        const img = q(`train-${f.type}`);
        img.src = f.picture;
        img.hidden = false;
        q(`train-${f.type}-caption`).textContent = f.type === 'filters'
          ? t('js.training.filters_caption', { layer: f.layer })
          : t('js.training.probe_caption', { layer: f.layer });
        s.dataset[f.type] = Number(s.dataset[f.type] || 0) + 1;
        break;
      }
    }
  };

  // controls offers what the run's state allows
  function controls(state) {
    const allowed = {
      queued: ['pause', 'stop'], running: ['pause', 'stop'], paused: ['resume', 'stop'],
    }[state] || [];
    for (const action of ['pause', 'resume', 'stop']) q(`train-${action}`).disabled = !allowed.includes(action);
  }

  function draw() {
    // x is the run's progress in epochs
    const x = (f) => f.epoch - 1 + f.step / f.steps;
    const maxX = Math.max(1, ...steps.map(x), ...epochs.map((e) => e.epoch));
    curve(q('train-loss'), maxX, [
      { points: steps.map((f) => [x(f), f.loss]), cls: 'train' },
      { points: epochs.map((e) => [e.epoch, e.testLoss]), cls: 'test', dots: true },
    ]);
    curve(q('train-accuracy'), maxX, [
      { points: steps.map((f) => [x(f), f.accuracy]), cls: 'train' },
      { points: epochs.map((e) => [e.epoch, e.testAccuracy]), cls: 'test', dots: true },
    ], [0, 1]);
  }

  function table(e) {
    const box = q('train-epoch');
    const el = (tag, attrs = {}, text) => {
      const n = document.createElement(tag);
      Object.assign(n, attrs);
      if (text !== undefined) n.textContent = text;
      return n;
    };
    const p = el('p', {}, t('js.training.epoch_summary', {
      epoch: e.epoch, accuracy: e.testAccuracy.toFixed(4), loss: e.testLoss.toFixed(4),
    }));
    const tbl = el('table', { className: 'summary confusion' });
    const head = el('tr');
    head.append(el('th', {}, t('js.training.true_predicted')));
    const name = (k) => (e.classes && e.classes[k]) || String(k);
    e.perClass.forEach((_, k) => head.append(el('th', { className: 'num', title: name(k) }, name(k).slice(0, 8))));
    head.append(el('th', { className: 'num' }, t('js.training.class_accuracy')));
    tbl.append(el('thead'), el('tbody'));
    tbl.tHead.append(head);
    e.confusion.forEach((row, i) => {
      const tr = el('tr');
      tr.append(el('th', {}, name(i)));
      const total = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((n, j) => {
        const td = el('td', { className: 'num' }, String(n));
        const share = n / total;
        if (share > 0.02) {
          td.classList.add(i === j ? 'hit' : 'miss');
          td.style.setProperty('--share', share.toFixed(3)); // CSSOM, which the page's CSP allows
        }
        tr.append(td);
      });
      tr.append(el('td', { className: 'num' }, e.perClass[i].toFixed(3)));
      tbl.tBodies[0].append(tr);
    });
    box.replaceChildren(p, tbl);
  }
}

function eta(seconds) {
  if (!(seconds > 0)) return t('js.training.eta_seconds', { s: 0 });
  const m = Math.floor(seconds / 60);
  return m > 0 ? t('js.training.eta_minutes', { m, s: Math.round(seconds % 60) }) : t('js.training.eta_seconds', { s: Math.round(seconds) });
}

/** curve draws series of [x, y] points in an SVG of 400x160. */
function curve(svg, maxX, series, range) {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  let [lo, hi] = range || [Math.min(0, ...ys), Math.max(...ys, 1e-6)];
  if (hi <= lo) hi = lo + 1;
  const X = (v) => 36 + (v / maxX) * 356;
  const Y = (v) => 150 - ((v - lo) / (hi - lo)) * 140;
  svg.replaceChildren();
  const add = (name, attrs, text) => {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  add('line', { x1: 36, y1: 150, x2: 392, y2: 150, class: 'axis' });
  add('line', { x1: 36, y1: 10, x2: 36, y2: 150, class: 'axis' });
  add('text', { x: 32, y: 14, 'text-anchor': 'end', class: 'tick' }, hi.toPrecision(2));
  add('text', { x: 32, y: 150, 'text-anchor': 'end', class: 'tick' }, lo.toPrecision(2));
  add('text', { x: 392, y: 159, 'text-anchor': 'end', class: 'tick' }, t('js.training.axis_epoch', { n: maxX.toFixed(maxX % 1 ? 1 : 0) }));
  for (const s of series) {
    if (!s.points.length) continue;
    if (s.dots) {
      for (const [x, y] of s.points) add('circle', { cx: X(x), cy: Y(y), r: 3, class: s.cls });
    } else {
      add('polyline', { points: s.points.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' '), class: s.cls });
    }
  }
}
