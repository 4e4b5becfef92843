// The evaluation lesson's "Measure in this browser": the engine compiled
// to WebAssembly (static/wasm/speed.wasm, built from cmd/speedwasm) times
// one forward pass of each trained model's architecture on the reader's
// own device, and the times fill the table's last column.
import { t } from './i18n.js';

const button = document.querySelector('[data-testid="measure-here"]');
const status = document.querySelector('[data-testid="measure-here-status"]');
if (button && status) button.addEventListener('click', () => measure().catch((e) => fail(e)));

let ready = null; // the engine, loaded once

function fail(e) {
  status.textContent = t('js.evaluation.failed', { error: e?.message || String(e) });
  button.disabled = false;
}

/** load fetches Go's wasm_exec.js and the engine, and starts it. */
function load() {
  ready ??= (async () => {
    await new Promise((ok, no) => {
      const s = document.createElement('script');
      s.src = '/static/wasm/wasm_exec.js';
      s.onload = ok;
      s.onerror = () => no(new Error('wasm_exec.js did not load'));
      document.head.append(s);
    });
    const go = new globalThis.Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch('/static/wasm/speed.wasm'), go.importObject);
    go.run(instance); // main registers convscopeTime and waits
    if (typeof globalThis.convscopeTime !== 'function') throw new Error('the engine did not start');
  })();
  return ready;
}

/** a frame for the page to repaint between models */
const paint = () => new Promise((ok) => setTimeout(ok, 0));

async function measure() {
  button.disabled = true;
  status.textContent = t('js.evaluation.loading');
  await load();
  const rows = [...document.querySelectorAll('[data-testid="evaluation-row"]')];
  document.querySelector('[data-testid="browser-ms-head"]').hidden = false;
  let runs = 0;
  for (const [i, row] of rows.entries()) {
    status.textContent = t('js.evaluation.timing', { model: row.dataset.model, i: i + 1, n: rows.length });
    await paint();
    const cell = row.querySelector('[data-testid="browser-ms"]');
    const input = row.dataset.input.split(',').map(Number);
    const r = globalThis.convscopeTime(row.dataset.family, row.dataset.variant || '', input, Number(row.dataset.classes));
    cell.hidden = false;
    if (r.error) {
      cell.textContent = '–';
      cell.title = r.error;
      continue;
    }
    cell.textContent = r.ms.toFixed(2);
    runs = r.runs;
  }
  status.textContent = t('js.evaluation.done', { runs });
  button.disabled = false;
}
