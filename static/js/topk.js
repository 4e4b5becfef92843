// Figure 2's page: starts the scan the URL names, shows its progress, then
// one figure per channel, each drawn by the server when it scrolls near.

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
      const res = await fetch(`/experiments/topk/scan?${q}`, { method: 'POST' });
      st = await res.json();
      if (!res.ok) throw new Error(st.error || res.statusText);
    } catch (err) {
      status.textContent = `The scan could not start: ${err.message}`;
      s.dataset.state = 'failed';
      return;
    }
    s.dataset.state = st.state;
    if (st.state === 'failed') {
      status.textContent = `The scan failed: ${st.error}`;
      return;
    }
    if (st.total > 0) bar.value = st.done / st.total;
    if (st.state === 'done') {
      bar.value = 1;
      status.textContent = st.cached && !waited ? `Scanned before: ${st.total} images.` : `Scanned ${st.total} images.`;
      break;
    }
    waited = true;
    status.textContent = st.state === 'queued'
      ? `Waiting: ${st.position} scan${st.position === 1 ? '' : 's'} ahead of this one.`
      : `Scanning: ${st.done} of ${st.total} images.`;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  const res = await fetch(`/experiments/topk/scan.json?${q}`);
  const scan = await res.json();
  if (!res.ok) {
    status.textContent = `The scan could not be read: ${scan.error}`;
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
    img.alt = `Channel ${ch.channel}: the deconvnet projections of its ${ch.top.length} strongest units (left) and the image patches under them (right).`;
    img.addEventListener('load', () => { fig.dataset.ready = 'true'; });
    const cap = document.createElement('figcaption');
    const best = ch.top[0];
    cap.textContent = best
      ? `channel ${ch.channel} · strongest ${best.activation.toPrecision(3)} (image ${best.index})`
      : `channel ${ch.channel}`;
    fig.append(img, cap);
    grid.append(fig);
  }
  s.dataset.ready = 'true';
  // a link to one channel (from the occlusion page) shows it
  if (location.hash.startsWith('#channel-')) document.querySelector(location.hash)?.scrollIntoView();
}
