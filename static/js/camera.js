// The camera input: the browser's own camera (with the visitor's
// permission) feeds frames to the model one after another, as the Deep
// Visualization Toolbox did with a webcam. Each frame is the centre square
// of the picture, sent as a PNG when the previous run has finished, so the
// server is never asked for more than one run at a time by this page.

import { t } from './i18n.js';

export class Camera {
  /**
   * @param {HTMLVideoElement} video
   * @param {(blob: Blob) => Promise<void>} send runs one frame
   * @param {() => boolean} ready says the latest run has finished
   * @param {(text: string, state: string) => void} say reports
   */
  constructor(video, send, ready, say) {
    Object.assign(this, { video, send, ready, say });
    this.stream = null;
    this.canvas = document.createElement('canvas');
    this.canvas.width = this.canvas.height = 224;
    this.frames = 0;
    this.busy = false;
  }

  get on() {
    return this.stream !== null;
  }

  async start() {
    if (this.on) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      this.say(t('js.explore.camera_unavailable'), 'error');
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
    } catch (err) {
      this.say(t('js.explore.camera_error', { error: err.message }), 'error');
      return;
    }
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play().catch(() => {});
    this.say(t('js.explore.camera_on'), 'ok');
    this.timer = setInterval(() => this.tick(), 150);
  }

  stop() {
    clearInterval(this.timer);
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
    this.say(this.frames === 1 ? t('js.explore.camera_stopped_one') : t('js.explore.camera_stopped', { n: this.frames }), 'ok');
  }

  /** tick sends the next frame once the previous run is done. */
  async tick() {
    if (!this.on || this.busy || !this.ready() || this.video.readyState < 2) return;
    this.busy = true;
    try {
      const { videoWidth: w, videoHeight: h } = this.video;
      const side = Math.min(w, h);
      this.canvas.getContext('2d').drawImage(this.video, (w - side) / 2, (h - side) / 2, side, side, 0, 0, 224, 224);
      const blob = await new Promise((resolve) => this.canvas.toBlob(resolve, 'image/png'));
      if (blob && this.on) {
        this.frames++;
        await this.send(blob);
      }
    } finally {
      this.busy = false;
    }
  }
}
