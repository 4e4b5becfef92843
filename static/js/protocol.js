// The websocket client of docs/PROTOCOL.md: JSON text both ways, binary
// frames from the server with a 32-byte little-endian header. It reconnects
// after a lost connection. It knows nothing of the page.

export const HEADER_SIZE = 32;

/** Binary frame kinds (header byte 0). */
export const Kind = Object.freeze({ MAPS: 1, INPUT: 2, PROJECTION: 3, NUMBERS: 4 });

/**
 * parseHeader reads a binary frame: {kind, version, run, index, c, h, w,
 * min, max, payload (Uint8Array view of the rest)}.
 */
export function parseHeader(buf) {
  if (buf.byteLength < HEADER_SIZE) throw new Error(`binary frame of ${buf.byteLength} bytes`);
  const v = new DataView(buf);
  return {
    kind: v.getUint8(0),
    version: v.getUint8(1),
    run: v.getUint32(4, true),
    index: v.getInt32(8, true),
    c: v.getUint32(12, true),
    h: v.getUint32(16, true),
    w: v.getUint32(20, true),
    min: v.getFloat32(24, true),
    max: v.getFloat32(28, true),
    payload: new Uint8Array(buf, HEADER_SIZE),
  };
}

/** Socket is one page's websocket with automatic reconnection. */
export class Socket {
  /**
   * @param {string} path  the websocket path, e.g. "/ws"
   * @param {{open?: Function, close?: (ev: CloseEvent) => void, json?: Function, binary?: Function}} on
   */
  constructor(path, on) {
    this.url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
    this.on = on;
    this.delay = 500;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.delay = 500;
      this.on.open?.();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (err) {
          console.error('bad JSON from server', err);
          return;
        }
        this.on.json?.(msg);
      } else {
        this.on.binary?.(parseHeader(ev.data));
      }
    };
    ws.onclose = (ev) => {
      this.on.close?.(ev);
      // 1013: the server is full; it asks for a wait, not a hammering.
      const wait = ev.code === 1013 ? Math.max(this.delay, 30000) : this.delay;
      setTimeout(() => this.connect(), wait);
      this.delay = Math.min(this.delay * 2, 10000);
    };
    this.ws = ws;
  }

  /** ready reports whether messages can be sent now. */
  get ready() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** send writes one JSON message; false when not connected. */
  send(msg) {
    if (!this.ready) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /**
   * sendFile writes an announcement (an upload or own-model message) and
   * the file's bytes right after it, as one binary message; false when
   * not connected.
   */
  sendFile(announce, blob) {
    if (!this.ready) return false;
    this.ws.send(JSON.stringify(announce));
    this.ws.send(blob);
    return true;
  }
}
