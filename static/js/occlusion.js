// Figure 7's page: reads the sweep's stream (one JSON line per frame) and
// shows the figure as its batches finish.

import { t } from './i18n.js';

const section = document.querySelector('#occlusion');
if (section) run(section);

async function run(s) {
  const status = s.querySelector('[data-testid="occlusion-status"]');
  const bar = s.querySelector('progress');
  const img = s.querySelector('[data-testid="occlusion-figure"]');
  let res;
  try {
    res = await fetch(s.dataset.stream);
  } catch (err) {
    status.textContent = t('js.experiments.occlusion.start_failed', { error: err.message });
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) show(JSON.parse(line));
    }
  }

  function show(f) {
    if (f.error) {
      status.textContent = t('js.experiments.occlusion.failed', { error: f.error });
      s.dataset.state = 'failed';
      return;
    }
    if (f.figure) img.src = f.figure;
    bar.value = f.total ? f.done / f.total : 0;
    status.textContent = t('js.experiments.occlusion.progress', { done: f.done, total: f.total });
    if (f.result) {
      const r = f.result;
      status.textContent = t('js.experiments.occlusion.done', {
        total: f.total, rows: r.rows, cols: r.cols, channel: r.channel, layer: r.layer, y: r.unit.y, x: r.unit.x,
      });
      const links = s.querySelector('[data-testid="occlusion-links"]');
      links.querySelector('a').href = f.figure;
      if (s.dataset.topk) {
        // the same feature map's projections for other pictures: Figure 2
        const other = links.querySelector('[data-testid="occlusion-topk"]');
        other.href = `${s.dataset.topk}#channel-${r.channel}`;
        other.textContent = t('js.experiments.occlusion.topk', { channel: r.channel });
        other.hidden = false;
      }
      links.hidden = false;
      img.addEventListener('load', () => { s.dataset.ready = 'true'; }, { once: true });
      if (img.complete) s.dataset.ready = 'true';
    }
  }
}
