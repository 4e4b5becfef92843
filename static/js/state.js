// The explorer's view state, mirrored into the URL so that a link reopens
// exactly the same view (TensorFlow Playground's habit):
//
//   ?model=resnet20-fashion-mnist      the catalog entry
//   &sample=fashion-mnist/08-sneaker.png   or &upload=<id> (kept an hour)
//   &open=layer1,layer1.0               the opened blocks
//   &layer=layer1.0.conv2&channel=3&y=4&x=5   the selected unit (y, x
//                                       absent: the map's strongest)
//   &method=guided                      how it is projected (absent: deconvnet)
//   &explain=predicted                  what: the selected unit (absent), the
//                                       predicted class, or a class's number
//
// It knows nothing of the page: main.js reads it once and writes it after
// every change.

/**
 * read parses the URL's query into a view; methods are the method names
 * the page offers (the first is the default).
 */
export function read(search = location.search, methods = ['deconvnet']) {
  const q = new URLSearchParams(search);
  const count = (k) => {
    const v = q.get(k);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const view = {
    model: q.get('model') || '',
    sample: q.get('upload') ? '' : q.get('sample') || '',
    upload: q.get('upload') || '',
    open: new Set((q.get('open') || '').split(',').filter(Boolean)),
    layer: q.get('layer') || '',
    channel: count('channel'),
    y: count('y'),
    x: count('x'),
    method: methods.includes(q.get('method')) ? q.get('method') : methods[0],
    explain: q.get('explain') === 'predicted' ? 'predicted' : count('explain') ?? 'unit',
  };
  if (!view.layer || view.channel === undefined) Object.assign(view, { layer: '', channel: undefined });
  if (view.y === undefined || view.x === undefined) Object.assign(view, { y: undefined, x: undefined });
  return view;
}

/** write puts a view into the URL, replacing the history entry. */
export function write(view) {
  const q = new URLSearchParams();
  if (view.model) q.set('model', view.model);
  if (view.upload) q.set('upload', view.upload);
  else if (view.sample) q.set('sample', view.sample);
  if (view.open.size) q.set('open', [...view.open].join(','));
  if (view.layer && view.channel !== undefined) {
    q.set('layer', view.layer);
    q.set('channel', view.channel);
    if (view.y !== undefined) {
      q.set('y', view.y);
      q.set('x', view.x);
    }
  }
  if (view.method && view.method !== 'deconvnet') q.set('method', view.method);
  if (view.explain !== undefined && view.explain !== 'unit') q.set('explain', view.explain);
  // the language the URL chose stays in it
  const lang = new URLSearchParams(location.search).get('lang');
  if (lang) q.set('lang', lang);
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history.replaceState(null, '', url);
}
