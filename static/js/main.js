// The explorer page: wires the websocket to the input, the layer rows, the
// prediction and the projection panel. Message order and fields are those of
// docs/PROTOCOL.md.

import { Socket, Kind } from './protocol.js';
import { paint, gray } from './colormap.js';
import { Layers } from './layers.js';
import { Projection } from './projection.js';
import { Drawing } from './draw.js';
import { Probs } from './probs.js';

const app = document.getElementById('app');
const statusEl = document.getElementById('status');
const inputCanvas = document.getElementById('input-canvas');
const inputNote = document.getElementById('input-note');
const uploadStatus = document.getElementById('upload-status');
const predTime = document.getElementById('pred-time');

const state = {
  model: app.dataset.model,
  run: 0, // the latest run started by the server
  done: false, // whether that run's prediction has arrived
  input: null, // the latest input message
  layerMeta: new Map(), // index -> layer message of the current run
  projection: null, // the latest projection message, waiting for its PNG
  selected: null, // {layer, channel, y?, x?}
  pending: null, // a run request to send once connected
  last: null, // the latest run request, repeated after a reconnection
  connectedBefore: false,
};

// The upload limit of docs/PROTOCOL.md, checked here too so that a large
// file is refused before it is sent.
const MAX_UPLOAD = 5 << 20;

function status(text, kind = 'ready') {
  statusEl.textContent = text;
  statusEl.dataset.state = kind;
}

const layers = new Layers(document.getElementById('layers'), select);
const projection = new Projection((y, x) => {
  if (!state.selected) return;
  state.selected.y = y;
  state.selected.x = x;
  requestProjection();
});
const probs = new Probs(document.getElementById('probs'));

const socket = new Socket(app.dataset.ws, {
  open() {
    status('connected', 'ready');
    // A new connection is a new session with no trace: run again what the
    // page shows, so that projections keep working.
    const again = state.pending || (state.connectedBefore ? state.last : null);
    state.connectedBefore = true;
    if (again) runRequest(again);
  },
  close() {
    state.done = false;
    status('connection lost, reconnecting…', 'connecting');
  },
  json: onMessage,
  binary: onFrame,
});

function runRequest(req) {
  state.pending = req;
  state.last = req;
  if (!socket.send({ type: 'run', model: state.model, ...req })) return;
  state.pending = null;
  status('running…', 'running');
}

function select(layer, channel) {
  const row = layers.get(layer);
  if (!row?.frame) return;
  state.selected = { layer, channel };
  layers.highlight(layer, channel);
  projection.select(row, channel);
  requestProjection();
}

function requestProjection() {
  const s = state.selected;
  if (!s || !state.done) return;
  const msg = { type: 'project', run: state.run, layer: s.layer, channel: s.channel };
  if (s.y !== undefined) Object.assign(msg, { y: s.y, x: s.x });
  socket.send(msg);
}

function onMessage(msg) {
  switch (msg.type) {
    case 'hello':
      break;
    case 'start':
      state.run = msg.run;
      state.done = false;
      state.layerMeta.clear();
      app.dataset.run = msg.run;
      app.dataset.done = 'false';
      layers.reset(msg);
      probs.reset(msg.classes);
      predTime.textContent = '';
      if (state.selected && state.selected.layer >= msg.layers.length) state.selected = null;
      break;
    case 'input':
      state.input = msg;
      inputNote.textContent =
        msg.source === 'sample'
          ? `sample ${msg.name}`
          : `your picture${msg.inverted ? ', inverted (it had a light background)' : ''}`;
      inputNote.textContent += ` · ${msg.shape.join('×')} as the model sees it`;
      break;
    case 'layer':
      if (msg.run !== state.run) return;
      state.layerMeta.set(msg.index, msg);
      layers.meta(msg);
      break;
    case 'prediction':
      if (msg.run !== state.run) return;
      state.done = true;
      app.dataset.done = 'true';
      probs.show(msg);
      predTime.textContent = `forward pass ${msg.ms.toFixed(1)} ms`;
      status(`run ${msg.run}: ${msg.classes[msg.top]} (${(100 * msg.probs[msg.top]).toFixed(1)}%)`, 'ready');
      if (state.selected) {
        const { layer, channel } = state.selected;
        select(layer, channel); // keep the selection across runs
      }
      break;
    case 'projection':
      state.projection = msg;
      break;
    case 'error':
      status(msg.message, 'error');
      if (msg.request === 'project') projection.error(msg.message);
      if (msg.request === 'run') inputNote.textContent = msg.message;
      break;
    default:
      console.warn('unknown message', msg);
  }
}

function onFrame(frame) {
  switch (frame.kind) {
    case Kind.INPUT:
      if (frame.run !== state.run) return;
      paint(inputCanvas, frame.payload, frame.h, frame.w, gray, frame.c);
      inputCanvas.dataset.run = frame.run;
      projection.setInput(frame);
      break;
    case Kind.MAPS:
      if (frame.run !== state.run) return;
      layers.maps(frame);
      break;
    case Kind.PROJECTION:
      if (state.projection && frame.run === state.run && state.projection.layer === frame.index) {
        projection.show(state.projection, frame);
      }
      break;
  }
}

// samples
for (const b of document.querySelectorAll('[data-testid="sample"]')) {
  b.addEventListener('click', () => {
    for (const o of document.querySelectorAll('.sample.active')) o.classList.remove('active');
    b.classList.add('active');
    runRequest({ sample: b.dataset.sample });
  });
}

// uploads and drawings both go through POST /upload, then run by id
async function uploadAndRun(blob, what) {
  uploadStatus.dataset.state = 'uploading';
  try {
    const res = await fetch(app.dataset.upload, {
      method: 'POST',
      body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream' },
    });
    const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
    if (!res.ok) throw new Error(body.error || res.statusText);
    if (what === 'upload') {
      uploadStatus.textContent = `${body.width}×${body.height} picture${body.inverted ? ', inverted (light background)' : ''}`;
    }
    uploadStatus.dataset.state = 'ok';
    runRequest({ upload: body.id });
  } catch (err) {
    uploadStatus.dataset.state = 'error';
    uploadStatus.textContent = err.message;
    status(err.message, 'error');
  }
}

document.getElementById('upload-input').addEventListener('change', (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  if (file.size > MAX_UPLOAD) {
    uploadStatus.dataset.state = 'error';
    uploadStatus.textContent = `${file.name} is ${(file.size / (1 << 20)).toFixed(1)} MB; the limit is 5 MB`;
    return;
  }
  uploadAndRun(file, 'upload');
});

let drawTimer = 0;
const drawing = new Drawing(document.getElementById('draw-canvas'), () => {
  clearTimeout(drawTimer);
  drawTimer = setTimeout(runDrawing, 350);
});
async function runDrawing() {
  if (!drawing.drawn) return;
  uploadAndRun(await drawing.toBlob(), 'drawing');
}
document.getElementById('draw-run').addEventListener('click', runDrawing);
document.getElementById('draw-clear').addEventListener('click', () => drawing.clear());
