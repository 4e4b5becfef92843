// The classroom: a teacher starts a class and gets a short code; a
// student joins with it, and the page the teacher is on follows on the
// student's screen (every page keeps its state in its URL), until the
// student unticks "follow" to explore alone. The class lives in the
// browser tab's sessionStorage, so it survives moving between pages.

import { t } from './i18n.js';
import { picture } from './pictures.js';

const key = 'convscope-class';

/** joined is the class this tab follows or leads, or null. */
function joined() {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

/**
 * classPicture fetches the picture id the class's teacher shows, which this
 * page's server may not have (the teacher's page ran on another replica);
 * null when this tab is in no class, or the class has no such picture.
 */
export async function classPicture(id) {
  const cls = joined();
  if (!cls || !/^[0-9a-f]{32}$/.test(id)) return null;
  try {
    const res = await fetch(`/classroom/${cls.code}/picture/${id}`);
    return res.ok ? await res.blob() : null;
  } catch {
    return null;
  }
}

const box = document.querySelector('[data-testid="classroom"]');
if (box) setup(box);

function setup(box) {
  const $ = (id) => box.querySelector(`[data-testid="${id}"]`);
  const status = $('class-status');
  const load = joined;
  const save = (c) => (c ? sessionStorage.setItem(key, JSON.stringify(c)) : sessionStorage.removeItem(key));
  const here = () => location.pathname + location.search;
  const wsURL = (c) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/classroom/${c.code}/ws${c.token ? `?token=${encodeURIComponent(c.token)}` : ''}`;
  let cls = load();
  let last = ''; // the teacher's latest page, for a student

  function show() {
    $('class-idle').hidden = Boolean(cls);
    $('class-teaching').hidden = cls?.role !== 'teacher';
    $('class-following').hidden = cls?.role !== 'student';
    if (cls) for (const el of box.querySelectorAll('[data-class-code]')) el.textContent = cls.code;
    if (cls?.role === 'student') $('class-follow').checked = cls.follow !== false;
    box.dataset.role = cls?.role || '';
  }

  function connect() {
    if (!cls) return;
    const ws = new WebSocket(wsURL(cls));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'following' || m.type === 'students') status.textContent = t('js.class.following', { n: m.students || 0 });
      if (m.type === 'error') status.textContent = m.error;
      if (m.type === 'follow' && cls?.role === 'student') {
        last = m.url;
        if (cls.follow !== false && m.url !== here()) location.assign(m.url);
      }
    };
    ws.onclose = () => {
      box.dataset.connected = 'false';
      if (cls) setTimeout(connect, 2000);
    };
    ws.onopen = () => {
      box.dataset.connected = 'true';
      if (cls?.role === 'teacher') {
        let sent = '';
        let sentPicture = '';
        const send = () => {
          if (ws.readyState !== WebSocket.OPEN || here() === sent) return;
          sent = here();
          // the picture first: a student's page on another replica
          // fetches it from the class to run it there
          const id = new URLSearchParams(location.search).get('upload');
          if (id && picture.id === id && sentPicture !== id) {
            ws.send(JSON.stringify({ type: 'picture', id }));
            ws.send(picture.blob);
            sentPicture = id;
          }
          ws.send(JSON.stringify({ type: 'follow', url: sent }));
        };
        send();
        // the explorer rewrites its URL as the teacher picks a layer or a unit
        const timer = setInterval(send, 500);
        ws.addEventListener('close', () => clearInterval(timer));
      }
    };
    window.addEventListener('pagehide', () => ws.close());
  }

  $('class-start').addEventListener('click', async () => {
    const res = await fetch('/classroom/', { method: 'POST' });
    const body = await res.json().catch(() => ({ error: res.statusText }));
    if (!res.ok) {
      status.textContent = body.error;
      return;
    }
    cls = { role: 'teacher', code: body.code, token: body.token };
    save(cls);
    show();
    connect();
  });
  $('class-join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = $('class-code').value.trim().toUpperCase();
    if (!/^[A-Z2-7]{6}$/.test(code)) {
      status.textContent = t('js.class.bad_code');
      return;
    }
    cls = { role: 'student', code, follow: true };
    save(cls);
    show();
    connect();
  });
  $('class-follow').addEventListener('change', () => {
    cls.follow = $('class-follow').checked;
    save(cls);
    if (cls.follow && last && last !== here()) location.assign(last);
  });
  for (const leave of box.querySelectorAll('[data-class-leave]')) {
    leave.addEventListener('click', () => {
      cls = null;
      save(null);
      show();
      status.textContent = '';
    });
  }
  show();
  connect();
}
