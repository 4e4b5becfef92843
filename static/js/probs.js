// The prediction: one bar per class, server-rendered, filled in here.

export class Probs {
  /** @param {HTMLElement} list the #probs element */
  constructor(list) {
    this.list = list;
  }

  /** reset shows the classes of a new run with empty bars. */
  reset(classes) {
    const items = [...this.list.querySelectorAll('[data-testid="prob"]')];
    if (items.length !== classes.length || items.some((li, i) => li.querySelector('.prob-label').textContent !== classes[i])) {
      this.list.replaceChildren(
        ...classes.map((c, i) => {
          const li = document.createElement('li');
          li.className = 'prob';
          li.dataset.testid = 'prob';
          li.dataset.class = i;
          li.innerHTML = '<span class="prob-label"></span><span class="prob-bar"><span class="prob-fill"></span></span><span class="prob-value"></span>';
          li.querySelector('.prob-label').textContent = c;
          return li;
        }),
      );
    }
    for (const li of this.list.children) {
      li.classList.remove('top');
      li.querySelector('.prob-fill').style.width = '0';
      li.querySelector('.prob-value').textContent = '…';
    }
    this.list.dataset.ready = 'false';
  }

  /** show fills the bars from a prediction message. */
  show(msg) {
    [...this.list.children].forEach((li, i) => {
      const p = msg.probs[i] ?? 0;
      li.querySelector('.prob-fill').style.width = `${(100 * p).toFixed(1)}%`;
      li.querySelector('.prob-value').textContent = `${(100 * p).toFixed(1)}%`;
      li.classList.toggle('top', i === msg.top);
    });
    this.list.dataset.ready = 'true';
    this.list.dataset.top = msg.top;
  }
}
