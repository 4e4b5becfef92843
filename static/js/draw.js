// The drawing canvas: white strokes on black, like Fashion-MNIST and MNIST.
// It calls onStroke when a stroke ends; toBlob gives the PNG to upload.

export class Drawing {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {() => void} onStroke
   */
  constructor(canvas, onStroke) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onStroke = onStroke;
    this.drawn = false;
    this.clear();
    let last = null;
    const pos = (ev) => {
      const r = canvas.getBoundingClientRect();
      return [((ev.clientX - r.left) / r.width) * canvas.width, ((ev.clientY - r.top) / r.height) * canvas.height];
    };
    canvas.addEventListener('pointerdown', (ev) => {
      canvas.setPointerCapture(ev.pointerId);
      last = pos(ev);
      this.line(last, last);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (!last) return;
      const p = pos(ev);
      this.line(last, p);
      last = p;
    });
    const end = () => {
      if (!last) return;
      last = null;
      this.drawn = true;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  line(a, b) {
    const ctx = this.ctx;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  /** clear paints the canvas black. */
  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawn = false;
  }

  /** toBlob resolves to the drawing as a PNG. */
  toBlob() {
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/png'));
  }
}
