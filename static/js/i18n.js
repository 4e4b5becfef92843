// Text in the page's language. The layout writes the catalogue's script
// messages (the js.* keys of web/i18n/en/ and vi/) into
// <script id="messages" type="application/json">; t(key, {name: v})
// is one of them with each {name} filled in. A key with no message reads as
// itself, so a missing one shows (and TestScriptKeysExist catches it).

let messages = {};
try {
  messages = JSON.parse(document.getElementById('messages')?.textContent || '{}');
} catch {
  messages = {};
}

/** The message for key in the page's language, its {name} placeholders filled from args. */
export function t(key, args = {}) {
  const msg = messages[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

/** The page's language ("en", "vi"), as the server chose it. */
export const lang = document.documentElement.lang || 'en';
