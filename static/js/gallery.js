// The sample gallery: the pictures of the current model's gallery (from the
// hello message), as buttons that run them. A sample is named
// "gallery/file" in runs and in the URL.

import { t } from './i18n.js';

export class Gallery {
  /**
   * @param {HTMLElement} root the #gallery element
   * @param {(ref: string) => void} onPick
   */
  constructor(root, onPick) {
    this.root = root;
    this.onPick = onPick;
    this.name = '';
    for (const b of root.querySelectorAll('[data-testid="sample"]')) this.wire(b);
  }

  wire(b) {
    b.addEventListener('click', () => this.onPick(b.dataset.sample));
  }

  /** show lists gallery `name`'s pictures (redrawn only when it changes). */
  show(name, list) {
    if (name === this.name && this.root.children.length) return;
    this.name = name;
    if (!list || list.length === 0) {
      const p = document.createElement('p');
      p.className = 'hint';
      p.dataset.testid = 'gallery-empty';
      p.textContent = t('js.explore.gallery_empty');
      this.root.replaceChildren(p);
      return;
    }
    this.root.replaceChildren(...list.map((s) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'sample';
      b.dataset.testid = 'sample';
      b.dataset.sample = `${name}/${s.file}`;
      b.title = s.label;
      b.setAttribute('aria-label', t('js.explore.run_sample', { label: s.label }));
      const img = document.createElement('img');
      img.src = `/samples/${name}/${s.file}`;
      img.alt = '';
      img.className = 'pixelated';
      img.width = img.height = 56;
      const span = document.createElement('span');
      span.textContent = s.label;
      b.append(img, span);
      this.wire(b);
      return b;
    }));
  }

  /** first is the reference of the gallery's first picture, or ''. */
  first() {
    return this.root.querySelector('[data-testid="sample"]')?.dataset.sample || '';
  }

  /** mark shows which sample runs now ('' for none). */
  mark(ref) {
    for (const b of this.root.querySelectorAll('[data-testid="sample"]')) {
      const on = b.dataset.sample === ref;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', String(on));
    }
  }
}
