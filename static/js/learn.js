// The lessons: a form of sliders (the MobileNet lesson's multipliers)
// shows each slider's value as it moves and counts again when it rests.
for (const form of document.querySelectorAll('form.multipliers')) {
  for (const range of form.querySelectorAll('input[type="range"]')) {
    const out = range.parentElement.querySelector('output');
    range.addEventListener('input', () => {
      if (out) out.textContent = range.name === 'alpha' && range.value === '1' ? '1.0' : range.value;
    });
    range.addEventListener('change', () => form.requestSubmit());
  }
}
