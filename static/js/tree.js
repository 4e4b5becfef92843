// The layer tree of the model page (web/summary): every row of the summary
// is in the page in pre-order, each nested row naming its block in
// data-parent, so that without this module the whole tree shows. The
// module closes every block, then opens and closes them with their toggle
// buttons and with "open all" / "close all". A toggle's label, in the
// page's language, is its data-open-label while its block is closed and
// its data-close-label while it is open. A row shows while every block
// above it is open; a closed block keeps which of its own blocks were
// open, and shows them so again when it reopens.

/**
 * initTree makes the table's blocks open and close. It returns the set of
 * open block names and the function that redraws the table from it.
 */
export function initTree(table, controls) {
  const rows = [...table.querySelectorAll('tbody tr[data-layer]')];
  const toggles = [...table.querySelectorAll('button.tree-toggle[data-block]')];
  const open = new Set();

  function render() {
    const shown = new Map(); // name -> whether its row shows
    for (const row of rows) {
      const parent = row.dataset.parent;
      const show = !parent || (shown.get(parent) !== false && open.has(parent));
      shown.set(row.dataset.layer, show);
      row.hidden = !show;
    }
    for (const b of toggles) {
      const isOpen = open.has(b.dataset.block);
      // the page writes both labels in its language
      const label = (isOpen ? b.dataset.closeLabel : b.dataset.openLabel) || b.getAttribute('aria-label') || '';
      b.setAttribute('aria-expanded', String(isOpen));
      b.setAttribute('aria-label', label);
      b.title = label;
    }
  }

  table.addEventListener('click', (e) => {
    const b = e.target.closest('button.tree-toggle[data-block]');
    if (!b || !table.contains(b)) return;
    const name = b.dataset.block;
    if (open.has(name)) open.delete(name);
    else open.add(name);
    render();
  });

  if (controls) {
    controls.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-tree-action]');
      if (!b) return;
      if (b.dataset.treeAction === 'open') for (const t of toggles) open.add(t.dataset.block);
      else open.clear();
      render();
    });
    controls.hidden = false;
  }

  render();
  table.dataset.treeReady = '';
  return { open, render };
}

const table = document.getElementById('summary-table');
if (table && table.classList.contains('tree')) {
  initTree(table, document.querySelector('[data-testid="tree-controls"]'));
}
