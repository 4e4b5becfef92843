// The explorer page: wires the websocket to the input, the layer tree, the
// prediction and the projection panel. Message order and fields are those of
// docs/PROTOCOL.md; the view (model, input, opened blocks, selected unit)
// lives in the URL (state.js), so a link reopens it.

import { Socket, Kind } from './protocol.js';
import { paint, gray } from './colormap.js';
import { Layers } from './layers.js';
import { Projection } from './projection.js';
import { Drawing } from './draw.js';
import { Probs } from './probs.js';
import { Gallery } from './gallery.js';
import { Arith } from './arith.js';
import { Camera } from './camera.js';
import * as view from './state.js';
import { t } from './i18n.js';
import { picture } from './pictures.js';
import { classPicture } from './classroom.js';

const $ = (id) => document.getElementById(id);
const app = $('app');
const statusEl = $('status');
const inputCanvas = $('input-canvas');
const inputNote = $('input-note');
const uploadStatus = $('upload-status');
const predTime = $('pred-time');
const narrow = matchMedia('(max-width: 700px)');

// The view, from the URL; the page was rendered for app.dataset.model.
const methodSelect = $('method-select');
const explainSelect = $('explain-select');
const methodNames = [...methodSelect.options].map((o) => o.value);
const v = view.read(location.search, methodNames);
v.model = app.dataset.model;

const state = {
  models: new Map(), // name -> hello's model entry, and the visitor's own
  snapshotOf: new Map(), // a snapshot's name -> the entry it is of
  galleries: {}, // gallery -> [{file, label}]
  run: 0, // the latest run started by the server
  done: false, // whether that run's prediction has arrived
  projection: null, // the latest projection message, waiting for its PNG
  pendingOpen: new Set(), // blocks opened while a run was streaming
  last: null, // the latest run request, repeated after a reconnection
  started: false, // whether the page has asked for its first run
  top: -1, // the latest run's predicted class
  inputName: '', // the latest run's input, for captions
  // the compare row: methods still to ask for, the one asked, the target
  compare: { active: false, queue: [], asked: '', target: '' },
  // Files sent on the websocket wait here for their answers, in order:
  // {resolve, reject}. The latest own model is kept ({name, file, blob}),
  // as the picture is (pictures.js), to be sent again on a new connection,
  // which may reach another server behind a proxy.
  filesAsked: [],
  own: null,
  resent: '', // the picture or model last sent again after "no upload" or "unknown model"
};

// The upload limit of docs/PROTOCOL.md, checked here too so that a large
// file is refused before it is sent.
const MAX_UPLOAD = 5 << 20;

/** withLang is an internal link that keeps the URL's ?lang=. */
function withLang(path) {
  const lang = new URLSearchParams(location.search).get('lang');
  return lang ? `${path}${path.includes('?') ? '&' : '?'}lang=${encodeURIComponent(lang)}` : path;
}

/** classText names class k, with its name when known. */
function classText(k, name) {
  return name ? t('js.explore.class_named', { k, name }) : t('js.explore.class', { k });
}

/** accuracyText is ", 90.1% test accuracy" for an accuracy above 0, else ''. */
function accuracyText(accuracy) {
  return accuracy > 0 ? t('js.explore.test_accuracy', { p: `${(100 * accuracy).toFixed(1)}%` }) : '';
}

function status(text, kind = 'ready') {
  statusEl.textContent = text;
  statusEl.dataset.state = kind;
}

const layers = new Layers($('layers'), {
  select,
  toggle(name, open) {
    if (open) v.open.add(name);
    else v.open.delete(name);
    view.write(v);
    if (!open) return;
    if (state.done) socket.send({ type: 'open', run: state.run, layer: name });
    else state.pendingOpen.add(name);
  },
});
const projection = new Projection((y, x) => {
  if (!v.layer) return;
  Object.assign(v, { y, x });
  requestProjection();
});
// how the selected unit was computed, asked when its panel is open
const arith = new Arith($('arith'), $('arith-body'), (layer, unit) => {
  if (state.done) socket.send({ type: 'arith', run: state.run, layer, channel: unit.channel, y: unit.y, x: unit.x });
});
const probs = new Probs($('top5'), $('probs'), document.querySelector('[data-testid="all-classes"] summary'));
const gallery = new Gallery($('gallery'), (ref) => runInput({ sample: ref }));

const socket = new Socket(app.dataset.ws, {
  open() {
    status(t('js.explore.connected'), 'ready');
    // A new connection is a new session with no trace: run again what the
    // page shows (with the blocks open now), so that projections keep working.
    // It may be another server: send the visitor's files first.
    if (state.own && state.last?.model === state.own.name) sendFile({ type: 'own-model', file: state.own.file }, state.own.blob).catch(() => {});
    if (picture.blob && state.last?.upload === picture.id) sendFile({ type: 'upload' }, picture.blob).catch(() => {});
    if (state.last) {
      state.last = { ...state.last, open: [...v.open] };
      send(state.last);
    }
  },
  close(ev) {
    // no pass is kept for this page any more: a projection waits for the
    // run the next connection makes
    state.done = false;
    app.dataset.done = 'false';
    for (const f of state.filesAsked.splice(0)) f.reject(new Error(t('js.explore.reconnecting')));
    if (ev.code === 1013) status(t('js.explore.retrying', { reason: ev.reason || t('js.explore.server_full') }), 'error');
    else status(t('js.explore.reconnecting'), 'connecting');
  },
  json: onMessage,
  binary: onFrame,
});

/** runInput runs a picture ({sample} or {upload}) on the current model. */
function runInput(input) {
  v.sample = input.sample || '';
  v.upload = input.upload || '';
  gallery.mark(v.sample);
  view.write(v);
  const req = { type: 'run', model: v.model, open: [...v.open] };
  if (v.upload) req.upload = v.upload;
  else req.sample = v.sample;
  state.last = req;
  send(req);
}

function send(req) {
  if (!socket.send(req)) return;
  status(t('js.explore.running'), 'running');
  app.dataset.sentAt = performance.now(); // for the browser test's timing
}

/** select picks a map (or a vector's unit) and asks for its projection. */
function select(index, channel) {
  const row = layers.get(index);
  if (!row?.frame) return;
  const vector = row.frame.h === 1 && row.frame.w === 1;
  Object.assign(v, { layer: row.info.name, channel, y: vector ? 0 : undefined, x: vector ? 0 : undefined });
  view.write(v);
  showSelection(row, channel);
  requestProjection();
}

function showSelection(row, channel) {
  layers.highlight(row.index, channel);
  const label = layers.isLast(row) && state.classes?.[channel]
    ? t('js.explore.class_label', { name: state.classes[channel], k: channel })
    : row.vector ? t('js.explore.unit', { n: channel }) : t('js.explore.map', { n: channel });
  projection.select(row, channel, label);
  placeProjection(row);
}

// On a phone the projection sits right under the layer it explains.
function placeProjection(row) {
  const panel = $('projection');
  if (narrow.matches && row?.sec) row.sec.after(panel);
  else if (!narrow.matches && panel.parentElement !== app) app.append(panel);
}
narrow.addEventListener('change', () => placeProjection(v.layer ? layers.named(v.layer) : null));

/** projectRequest is the project message for the view's target and method. */
function projectRequest(method) {
  const msg = { type: 'project', run: state.run, method };
  if (v.explain === 'unit') {
    if (!v.layer) return null;
    msg.layer = v.layer;
    if (method === 'gradcam') return msg; // the predicted class, weighing the selected layer's maps
    msg.channel = v.channel;
    if (v.y !== undefined) Object.assign(msg, { y: v.y, x: v.x });
    return msg;
  }
  msg.class = v.explain === 'predicted' ? -1 : v.explain;
  if (method === 'gradcam' && v.layer) msg.layer = v.layer;
  return msg;
}

function targetLabel() {
  if (v.explain === 'unit') return v.layer ? t('js.explore.target_map', { layer: v.layer, n: v.channel }) : t('js.explore.selected_unit');
  const k = v.explain === 'predicted' ? state.top : v.explain;
  return classText(k, state.classes?.[k]);
}

function requestProjection() {
  stopCompare();
  if (!state.done) return;
  const msg = projectRequest(v.method);
  view.write(v);
  if (!msg) return;
  if (v.explain !== 'unit') projection.explainClass(targetLabel());
  projection.asking();
  socket.send(msg);
}

/** methodTitle is a method's label in the menu. */
function methodTitle(name) {
  return [...methodSelect.options].find((o) => o.value === name)?.textContent || name;
}

// The compare row: every method for the current target, asked one after
// the other (a newer request stops a long one), each drawn as it arrives.
function startCompare() {
  if (!state.done || !projectRequest(v.method)) return;
  const c = state.compare;
  Object.assign(c, { active: true, queue: [...methodNames], target: targetLabel() });
  // across the page on a wide screen; right under the panel on a phone
  if (narrow.matches) $('projection').after($('compare'));
  else statusEl.after($('compare'));
  $('compare').hidden = false;
  $('compare-title').textContent = t('js.explore.compare_title', { target: c.target, input: state.inputName });
  // the input first, as in the papers' figures
  const fig = document.createElement('figure');
  const input = document.createElement('canvas');
  input.className = 'pixelated';
  input.width = inputCanvas.width;
  input.height = inputCanvas.height;
  input.getContext('2d').drawImage(inputCanvas, 0, 0);
  const cap = document.createElement('figcaption');
  cap.textContent = t('js.explore.input');
  fig.append(input, cap);
  $('compare-row').replaceChildren(fig);
  $('compare').scrollIntoView({ block: 'nearest' });
  askNextCompare();
}

function askNextCompare() {
  const c = state.compare;
  if (!c.queue.length) {
    stopCompare();
    status(t('js.explore.compare_done'), 'ready');
    return;
  }
  c.asked = c.queue.shift();
  status(t('js.explore.compare_asking', { method: methodTitle(c.asked) }), 'running');
  socket.send(projectRequest(c.asked));
}

function stopCompare() {
  state.compare.active = false;
  state.compare.queue = [];
}

/** addCompare puts one method's picture (or its error) in the compare row. */
function addCompare(method, meta, png, message) {
  const fig = document.createElement('figure');
  fig.dataset.method = method;
  fig.dataset.testid = 'compare-item';
  if (png) {
    const img = document.createElement('img');
    img.className = meta.heat ? 'zoom' : 'zoom pixelated';
    img.src = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
    img.alt = t('js.explore.compare_alt', { method: methodTitle(method), target: state.compare.target });
    fig.append(img);
  }
  const cap = document.createElement('figcaption');
  cap.textContent = message ? `${methodTitle(method)}: ${message}` : methodTitle(method);
  fig.append(cap);
  $('compare-row').append(fig);
}

/** modelRef is hello's entry for a model's name, or for a snapshot's the
 * entry it is a snapshot of. */
function modelRef(name) {
  return state.models.get(state.snapshotOf.get(name) || name);
}

// The epoch slider scrubs across the snapshots a training run kept
// (Figure 4): the same picture through each epoch's weights, the last
// stop being the final ones.
const epochBox = $('epoch-slider');
const epochRange = $('epoch-range');
const epochValue = $('epoch-value');
function epochStops(m) {
  const snaps = m?.snapshots || [];
  return snaps.length ? [...snaps, { name: m.name, epoch: 0, accuracy: m.accuracy }] : [];
}
function showEpochs(m) {
  const stops = epochStops(m);
  epochBox.hidden = stops.length === 0;
  if (!stops.length) return;
  const at = Math.max(0, stops.findIndex((s) => s.name === v.model));
  epochRange.max = String(stops.length - 1);
  epochRange.value = String(at);
  const s = stops[at];
  const acc = accuracyText(s.accuracy);
  epochValue.textContent = s.epoch ? t('js.explore.after_epoch', { n: s.epoch, acc }) : t('js.explore.end_of_training', { acc });
  epochRange.setAttribute('aria-valuetext', epochValue.textContent);
}
let epochTimer = 0;
epochRange.addEventListener('input', () => {
  const m = modelRef(v.model);
  const stop = epochStops(m)[Number(epochRange.value)];
  if (!stop || stop.name === v.model) return;
  v.model = stop.name;
  showEpochs(m);
  // a drag asks for the epoch it rests on, not every one it passes
  clearTimeout(epochTimer);
  epochTimer = setTimeout(() => runInput(v.upload ? { upload: v.upload } : { sample: v.sample || gallery.first() }), 150);
});

/** showModel fills the model card and gallery for a hello entry. */
function showModel(m) {
  if (!m) return;
  showEpochs(m);
  const note = $('model-note');
  let trained = m.trained ? t('js.explore.trained', { dataset: m.dataset, acc: accuracyText(m.accuracy) }) : t('js.explore.untrained');
  if (m.source?.startsWith('file ')) {
    const file = m.source.slice(5);
    trained = m.dataset ? t('js.explore.weights_from_labelled', { file, dataset: m.dataset }) : t('js.explore.weights_from', { file });
  }
  if (m.source?.startsWith('uploaded ')) trained = t('js.explore.yours_this_visit', { file: m.source.slice(9) });
  if (!m.trained && !m.dataset) trained += t('js.explore.no_dataset');
  note.textContent = `${m.model}${m.variant ? ` [${m.variant}]` : ''} · ${trained}`;
  $('model-link').href = withLang(`/model/${encodeURIComponent(m.name)}`);
  $('model-link').hidden = Boolean(m.source?.startsWith('uploaded ')); // not listed: no page of its own
  $('input-shape').textContent = m.input.join('×');
  document.title = `${t('js.explore.title', { name: m.name })} · convscope`;
  gallery.show(m.gallery, state.galleries[m.gallery]);
  gallery.mark(v.sample);
}

/**
 * pictureAgain runs picture id again where this server lacks it: from the
 * page's own copy (sent once), else the class's (a teacher's picture on
 * another replica), else the gallery's first picture.
 */
async function pictureAgain(id) {
  const mine = picture.id === id && picture.blob && state.resent !== id ? picture.blob : null;
  if (mine) state.resent = id; // once: a server that keeps refusing it gets the gallery
  const blob = mine || (await classPicture(id));
  if (blob) {
    try {
      const body = await sendFile({ type: 'upload' }, blob);
      Object.assign(picture, { id: body.id, blob });
      runInput({ upload: body.id });
      return;
    } catch (err) {
      status(err.message, 'error');
    }
  }
  if (gallery.first()) runInput({ sample: gallery.first() });
}

/** ownModelAgain sends the visitor's own model again, once, and reruns. */
async function ownModelAgain() {
  const own = state.own;
  if (!own || own.name !== v.model || state.resent === own.name) return false;
  state.resent = own.name;
  try {
    await sendFile({ type: 'own-model', file: own.file }, own.blob);
  } catch {
    return false;
  }
  runInput(v.upload ? { upload: v.upload } : { sample: v.sample });
  return true;
}

/** sendFile sends a file on the websocket and resolves with its answer. */
function sendFile(announce, blob) {
  return new Promise((resolve, reject) => {
    if (!socket.sendFile(announce, blob)) {
      reject(new Error(t('js.explore.reconnecting')));
      return;
    }
    state.filesAsked.push({ resolve, reject });
  });
}

function onMessage(msg) {
  switch (msg.type) {
    case 'uploaded':
    case 'own-model':
      state.filesAsked.shift()?.resolve(msg);
      break;
    case 'hello':
      if (msg.version !== 2) {
        status(t('js.explore.old_protocol', { version: msg.version, want: 2 }), 'error');
        return;
      }
      for (const m of msg.models) {
        state.models.set(m.name, m); // (own models stay)
        for (const sn of m.snapshots || []) state.snapshotOf.set(sn.name, m.name);
      }
      // which replica holds this connection, and the id its log lines carry
      app.dataset.server = msg.server || '';
      state.request = msg.request || '';
      if (msg.ownModels) {
        $('own-model-upload').hidden = false;
        $('own-model-status').textContent = '';
      }
      state.galleries = msg.galleries || {};
      showModel(modelRef(v.model));
      if (!state.started) {
        state.started = true;
        if (v.upload) runInput({ upload: v.upload });
        else if (v.sample || gallery.first()) runInput({ sample: v.sample || gallery.first() });
        else status(t('js.explore.draw_or_upload'), 'ready');
      }
      break;
    case 'queued':
      // other visitors' passes hold the server's memory for now
      status(msg.ahead > 1 ? t('js.explore.queued_many', { n: msg.ahead }) : msg.ahead === 1 ? t('js.explore.queued_one') : t('js.explore.queued_next'), 'running');
      break;
    case 'start':
      state.run = msg.run;
      state.done = false;
      state.classes = msg.classes;
      state.pendingOpen.clear();
      app.dataset.run = msg.run;
      app.dataset.done = 'false';
      layers.reset(msg, v.open);
      probs.reset(msg.classes);
      fillExplain(msg.classes);
      predTime.textContent = '';
      if (v.layer && !layers.named(v.layer)) Object.assign(v, { layer: '', channel: undefined, y: undefined, x: undefined });
      break;
    case 'input':
      state.inputName = msg.source === 'sample' ? msg.name : t('js.explore.an_upload');
      inputNote.textContent =
        msg.source === 'sample'
          ? t('js.explore.sample', { name: msg.name })
          : msg.inverted ? t('js.explore.your_picture_inverted') : t('js.explore.your_picture');
      inputNote.textContent += ` · ${t('js.explore.as_the_model_sees_it', { shape: msg.shape.join('×') })}`;
      break;
    case 'layer':
      if (msg.run !== state.run) return;
      layers.meta(msg);
      break;
    case 'prediction': {
      state.resent = ''; // a run went through: a later loss may send the files again
      if (msg.run !== state.run) return;
      state.done = true;
      app.dataset.done = 'true';
      probs.show(msg);
      state.top = msg.top;
      predTime.textContent = t('js.explore.forward_pass', { ms: msg.ms.toFixed(1) });
      status(t('js.explore.run_result', { run: msg.run, name: msg.classes[msg.top], p: (100 * msg.probs[msg.top]).toFixed(1) }), 'ready');
      for (const name of state.pendingOpen) socket.send({ type: 'open', run: state.run, layer: name });
      state.pendingOpen.clear();
      const row = v.layer && layers.named(v.layer);
      if (row?.frame) { // keep the selection across runs
        showSelection(row, v.channel);
        requestProjection();
      } else if (row) projection.clear();
      else if (v.explain !== 'unit') requestProjection();
      break;
    }
    case 'projection':
      state.projection = msg;
      if (msg.run === state.run && !msg.partial && !state.compare.active) arith.select(msg.class === -1 ? msg.layer : '', msg.unit);
      break;
    case 'arith':
      if (msg.run === state.run) arith.show(msg);
      break;
    case 'progress':
      if (msg.run === state.run && !state.compare.active) projection.working(msg.done, msg.total, methodTitle(msg.method));
      if (state.compare.active) status(t('js.explore.compare_progress', { method: methodTitle(msg.method), done: msg.done, total: msg.total }), 'running');
      break;
    case 'error':
      if (msg.request === 'upload' || msg.request === 'own-model') {
        state.filesAsked.shift()?.reject(new Error(msg.message));
        return;
      }
      // A session quiet for a while forgets its pass (docs/PROTOCOL.md):
      // run the picture again, and the prediction re-projects the selection.
      if ((msg.request === 'project' || msg.request === 'open') && /run a picture first/.test(msg.message) && state.last) {
        state.last = { ...state.last, open: [...v.open] };
        send(state.last);
        return;
      }
      if (msg.request === 'project' && state.compare.active) {
        addCompare(state.compare.asked, null, null, msg.message);
        askNextCompare();
        return;
      }
      if (msg.request === 'arith') {
        arith.error(msg.message);
        return;
      }
      // the id finds the server's log lines about this connection
      status(state.request ? `${msg.message} (${t('js.explore.report_id', { id: state.request })})` : msg.message, 'error');
      if (msg.request === 'project') projection.error(msg.message);
      if (msg.request === 'run' && v.model.startsWith('own-') && /unknown model/.test(msg.message)) {
        // A visitor's own model lives with its session (a lost connection,
        // or a quiet page, dropped it): send it again if the page has it.
        ownModelAgain().then((sent) => { if (!sent) ownModelDropped(); });
        return;
      }
      if (msg.request === 'run') {
        inputNote.textContent = msg.message;
        // This server lacks the picture (a link, a quiet page's picture
        // expired, a class's teacher on another replica).
        if (v.upload && /no upload/.test(msg.message)) pictureAgain(v.upload);
      }
      break;
    default:
      console.info('unknown message', msg);
  }
}

/** ownModelDropped says the visitor's own model is gone and goes back to the default model. */
function ownModelDropped() {
  $('own-model-status').textContent = t('js.explore.own_model_dropped');
  state.models.delete(v.model);
  modelSelect?.querySelector(`option[value="${v.model}"]`)?.remove();
  v.model = modelSelect?.options[0]?.value || app.dataset.model;
  if (modelSelect) modelSelect.value = v.model;
  showModel(state.models.get(v.model));
  runInput(v.upload ? { upload: v.upload } : { sample: v.sample });
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
      // a selected row that was inside a closed block arrives now
      if (state.done && v.layer && layers.get(frame.index)?.info.name === v.layer) {
        showSelection(layers.get(frame.index), v.channel);
        requestProjection();
      }
      break;
    case Kind.PROJECTION: {
      const meta = state.projection;
      if (!meta || frame.run !== state.run || meta.index !== frame.index) return;
      const c = state.compare;
      if (c.active) {
        if (!meta.partial && meta.method === c.asked) {
          addCompare(c.asked, meta, frame.payload);
          askNextCompare();
        }
        return;
      }
      const context = { model: v.model, input: state.inputName, classes: state.classes };
      projection.show(meta, frame, methodTitle(meta.method), context)?.then(() => {
        $('download-button').disabled = !projection.last;
      });
      break;
    }
    case Kind.NUMBERS: {
      const meta = state.projection;
      if (!meta || frame.run !== state.run || meta.index !== frame.index || state.compare.active) return;
      projection.setNumbers(meta, frame);
      $('download-numbers').disabled = false;
      break;
    }
  }
}

// the projection method and what it explains
methodSelect.value = v.method;
const methodAbout = $('method-about');
function showAbout() {
  methodAbout.textContent = methodSelect.selectedOptions[0]?.title || '';
}
showAbout();
methodSelect.addEventListener('change', () => {
  v.method = methodSelect.value;
  showAbout();
  requestProjection();
});

/** fillExplain lists the model's classes as targets, keeping the choice. */
function fillExplain(classes) {
  const keep = [...explainSelect.options].slice(0, 2);
  const opts = classes.map((name, k) => {
    const o = document.createElement('option');
    o.value = String(k);
    o.textContent = t('js.explore.class_option', { k, name });
    return o;
  });
  explainSelect.replaceChildren(...keep, ...opts);
  explainSelect.value = String(v.explain);
  if (explainSelect.selectedIndex < 0) {
    v.explain = 'unit';
    explainSelect.value = 'unit';
  }
}
explainSelect.value = String(v.explain);
explainSelect.addEventListener('change', () => {
  const val = explainSelect.value;
  v.explain = val === 'unit' || val === 'predicted' ? val : Number(val);
  requestProjection();
});

$('compare-button').addEventListener('click', startCompare);
$('compare-close').addEventListener('click', () => {
  stopCompare();
  $('compare').hidden = true;
});
$('download-button').addEventListener('click', () => projection.download());
$('download-numbers').addEventListener('click', () => projection.downloadNumbers());

// the model menu switches at once, keeping the input
const modelSelect = $('model-select');
if (modelSelect?.tagName === 'SELECT') {
  modelSelect.addEventListener('change', () => {
    v.model = modelSelect.value;
    showModel(modelRef(v.model));
    projection.clear();
    const m = state.models.get(v.model);
    if (!v.upload && !v.sample && m) v.sample = gallery.first();
    runInput(v.upload ? { upload: v.upload } : { sample: v.sample });
  });
}

// the visitor's own model: sent on the websocket, then run by the name given
const ownInput = $('own-model-input');
ownInput.addEventListener('change', async () => {
  const file = ownInput.files[0];
  ownInput.value = '';
  if (!file) return;
  const note = $('own-model-status');
  if (file.size > 64 << 20) {
    note.textContent = t('js.explore.too_large', { file: file.name, mb: (file.size / (1 << 20)).toFixed(0), limit: 64 });
    return;
  }
  note.textContent = t('js.explore.reading', { file: file.name });
  try {
    const body = await sendFile({ type: 'own-model', file: file.name }, file);
    delete body.type;
    state.own = { name: body.name, file: file.name, blob: file };
    const m = { ...body, trained: true, accuracy: 0, gallery: body.input[0] === 1 ? 'fashion-mnist' : 'photos', about: '' };
    state.models.set(m.name, m);
    // (the same file again has the same name: one entry)
    modelSelect?.querySelector(`option[value="${m.name}"]`)?.remove();
    const opt = document.createElement('option');
    opt.value = m.name;
    opt.textContent = t('js.explore.yours', { file: file.name });
    modelSelect?.append(opt);
    if (modelSelect) modelSelect.value = m.name;
    note.textContent = t('js.explore.own_model_loaded', {
      file: file.name,
      model: m.model === 'onnx' ? t('js.explore.onnx_graph') : m.model,
      shape: m.input.join('×'),
      n: m.classes.length,
    });
    v.model = m.name;
    showModel(m);
    projection.clear();
    if (!v.upload && !v.sample) v.sample = gallery.first();
    runInput(v.upload ? { upload: v.upload } : { sample: v.sample });
  } catch (err) {
    note.textContent = err.message;
  }
});

// uploads and drawings are both sent on the websocket, then run by id;
// still, when given, says the run is still wanted once the upload is in
// (a camera stopped meanwhile does not run its last frame)
async function uploadAndRun(blob, what, still = () => true) {
  uploadStatus.dataset.state = 'uploading';
  try {
    const body = await sendFile({ type: 'upload' }, blob);
    if (what === 'upload') {
      const size = { w: body.width, h: body.height };
      uploadStatus.textContent = body.bright_border ? t('js.explore.picture_light', size) : t('js.explore.picture', size);
    }
    uploadStatus.dataset.state = 'ok';
    if (still()) {
      Object.assign(picture, { id: body.id, blob });
      runInput({ upload: body.id });
    }
  } catch (err) {
    uploadStatus.dataset.state = 'error';
    uploadStatus.textContent = err.message;
    status(err.message, 'error');
  }
}

const fileInput = $('upload-input');
fileInput.addEventListener('change', () => {
  const file = fileInput.files[0];
  fileInput.value = ''; // the same file chosen again runs again
  if (!file) return;
  if (file.size > MAX_UPLOAD) {
    uploadStatus.dataset.state = 'error';
    uploadStatus.textContent = t('js.explore.too_large', { file: file.name, mb: (file.size / (1 << 20)).toFixed(1), limit: 5 });
    return;
  }
  uploadAndRun(file, 'upload');
});

// the camera: frame after frame through the model, each once the last ran
const camera = new Camera(
  $('camera-video'),
  (blob) => uploadAndRun(blob, 'camera', () => camera.on),
  () => state.done,
  (text, kind) => {
    $('camera-status').textContent = text;
    $('camera-status').dataset.state = kind;
  },
);
$('camera-start').addEventListener('click', async () => {
  await camera.start();
  $('camera-start').hidden = camera.on;
  $('camera-stop').hidden = !camera.on;
  if (camera.on) $('camera-stop').focus();
});
$('camera-stop').addEventListener('click', () => {
  camera.stop();
  $('camera-start').hidden = false;
  $('camera-stop').hidden = true;
  $('camera-start').focus();
});

let drawTimer = 0;
const drawing = new Drawing($('draw-canvas'), () => {
  clearTimeout(drawTimer);
  drawTimer = setTimeout(runDrawing, 350);
});
async function runDrawing() {
  if (!drawing.drawn) return;
  uploadAndRun(await drawing.toBlob(), 'drawing');
}
$('draw-run').addEventListener('click', runDrawing);
$('draw-clear').addEventListener('click', () => drawing.clear());
