// The prediction: the five most likely classes, sorted, and every class in
// output order in a folded list below (an ImageNet model has 1,000).

import { t } from './i18n.js';

function item(label) {
  const li = document.createElement('li');
  li.className = 'prob';
  li.dataset.testid = 'prob';
  li.innerHTML = '<span class="prob-label"></span><span class="prob-bar"><span class="prob-fill"></span></span><span class="prob-value"></span>';
  li.querySelector('.prob-label').textContent = label;
  return li;
}

function set(li, p, top) {
  li.querySelector('.prob-fill').style.width = `${(100 * p).toFixed(1)}%`;
  li.querySelector('.prob-value').textContent = `${(100 * p).toFixed(1)}%`;
  li.classList.toggle('top', top);
}

export class Probs {
  /**
   * @param {HTMLElement} top5 the #top5 list
   * @param {HTMLElement} list the #probs list (every class)
   * @param {HTMLElement} summary the folded list's summary line
   */
  constructor(top5, list, summary) {
    this.top5 = top5;
    this.list = list;
    this.summary = summary;
  }

  /** reset shows the classes of a new run with empty bars. */
  reset(classes) {
    const items = [...this.list.children];
    if (items.length !== classes.length || items.some((li, i) => li.querySelector('.prob-label').textContent !== classes[i])) {
      this.list.replaceChildren(...classes.map((c) => item(c)));
      [...this.list.children].forEach((li, i) => { li.dataset.class = i; });
      this.summary.textContent = t('js.explore.all_classes', { n: classes.length });
    }
    for (const li of this.list.children) {
      li.classList.remove('top');
      li.querySelector('.prob-fill').style.width = '0';
      li.querySelector('.prob-value').textContent = '…';
    }
    this.top5.replaceChildren();
    this.list.dataset.ready = 'false';
    this.top5.dataset.ready = 'false';
  }

  /** show fills the bars from a prediction message. */
  show(msg) {
    [...this.list.children].forEach((li, i) => set(li, msg.probs[i] ?? 0, i === msg.top));
    const order = msg.probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
    this.top5.replaceChildren(...order.map(([p, i]) => {
      const li = item(msg.classes[i] ?? t('js.explore.class', { k: i }));
      li.dataset.testid = 'top-class';
      li.dataset.class = i;
      set(li, p, i === msg.top);
      return li;
    }));
    this.list.dataset.ready = 'true';
    this.list.dataset.top = msg.top;
    this.top5.dataset.ready = 'true';
  }
}
