// Figure 2's page: starts the scan the URL names, shows its progress, then
// one figure per channel, each drawn by the server when it scrolls near.

import { t, lang } from './i18n.js';

const section = document.querySelector('#topk');
if (section) run(section);

/** query is the scan's model, layer and split as URL parameters. */
function query(s) {
  return new URLSearchParams({ model: s.dataset.model, layer: s.dataset.layer, split: s.dataset.split }).toString();
}

async function run(s) {
  const status = s.querySelector('[data-testid="topk-status"]');
  const bar = s.querySelector('progress');
  const q = query(s);
  let waited = false; // the scan ran while this page watched
  for (;;) {
    let st;
    try {
      const res = await fetch(`/experiments/topk/scan?${q}&lang=${lang}`, { method: 'POST' });
      st = await res.json();
      if (!res.ok) throw new Error(st.error || res.statusText);
    } catch (err) {
      status.textContent = t('js.experiments.topk.start_failed', { error: err.message });
      s.dataset.state = 'failed';
      return;
    }
    s.dataset.state = st.state;
    if (st.state === 'failed') {
      status.textContent = t('js.experiments.topk.failed', { error: st.error });
      return;
    }
    if (st.total > 0) bar.value = st.done / st.total;
    if (st.state === 'done') {
      bar.value = 1;
      status.textContent = st.cached && !waited
        ? t('js.experiments.topk.cached', { n: st.total })
        : t('js.experiments.topk.done', { n: st.total });
      break;
    }
    waited = true;
    if (st.state !== 'queued') {
      status.textContent = t('js.experiments.topk.scanning', { done: st.done, total: st.total });
    } else if (st.position === 1) {
      status.textContent = t('js.experiments.topk.waiting_one', { n: st.position });
    } else {
      status.textContent = t('js.experiments.topk.waiting', { n: st.position });
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  const res = await fetch(`/experiments/topk/scan.json?${q}&lang=${lang}`);
  const scan = await res.json();
  if (!res.ok) {
    status.textContent = t('js.experiments.topk.read_failed', { error: scan.error });
    return;
  }
  const links = s.querySelector('[data-testid="topk-links"]');
  links.querySelector('[data-testid="topk-json"]').href = `/experiments/topk/scan.json?${q}`;
  links.querySelector('[data-testid="topk-figure"]').href = `/experiments/topk/figure.png?${q}`;
  links.hidden = false;
  const grid = s.querySelector('[data-testid="topk-grid"]');
  for (const ch of scan.channels) {
    const fig = document.createElement('figure');
    fig.className = 'topk-channel';
    fig.dataset.testid = 'topk-channel';
    fig.dataset.channel = ch.channel;
    fig.id = `channel-${ch.channel}`;
    const img = document.createElement('img');
    img.loading = 'lazy';
    img.src = `/experiments/topk/channel.png?${q}&channel=${ch.channel}`;
    img.alt = t('js.experiments.topk.alt', { channel: ch.channel, n: ch.top.length });
    img.addEventListener('load', () => { fig.dataset.ready = 'true'; });
    const cap = document.createElement('figcaption');
    const best = ch.top[0];
    cap.textContent = best
      ? t('js.experiments.topk.caption', { channel: ch.channel, activation: best.activation.toPrecision(3), index: best.index })
      : t('js.experiments.topk.caption_empty', { channel: ch.channel });
    fig.append(img, cap);
    grid.append(fig);
  }
  s.dataset.ready = 'true';
  // a link to one channel (from the occlusion page) shows it
  if (location.hash.startsWith('#channel-')) document.querySelector(location.hash)?.scrollIntoView();
}
