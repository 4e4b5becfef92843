// The header's language switch keeps the page as it is now: the explorer
// rewrites its address as the reader picks a model, a layer or a unit, so
// the link is made from the current address when it is followed (by a
// click or from the keyboard), not from the one the server first drew.
for (const a of document.querySelectorAll('[data-testid="languages"] a[hreflang]')) {
  a.addEventListener('click', () => {
    const u = new URL(location.href);
    u.searchParams.set('lang', a.hreflang);
    a.href = u.pathname + u.search;
  });
}
