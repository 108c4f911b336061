// The homepage's unauthenticated static files (kinode-modules.md §6.1): `/our`, `/amionline`,
// `/our.js` byte for byte as the runtime serves them, and a default `/kinode.css` plus the three
// SVGs apps link to. The stylesheet and pictures are our own drawings under the runtime's names
// and MIME types (apps only need them to exist and be CSS / SVG); the stylesheet defines the
// custom properties the runtime's sheet offers apps (--orange, --off-white, --font-family-main, …).

/** `window.our = {}; window.our.node = '<node>';` (application/javascript) */
export function ourJs(node: string): string {
  return `window.our = {}; window.our.node = '${node}';`;
}

export const DEFAULT_CSS = `:root {
  color-scheme: light dark;
  --orange: #f35422;
  --dark-orange: #cf4619;
  --blue: #2a6cff;
  --off-white: #fdfaf5;
  --white: #ffffff;
  --off-black: #22211f;
  --black: #000000;
  --gray: #8c8a86;
  --tan: #f0ece4;
  --text: light-dark(var(--off-black), var(--off-white));
  --background: light-dark(var(--off-white), var(--off-black));
  --font-family-main: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  --font-family-mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
}
body {
  font-family: var(--font-family-main);
  color: var(--text);
  background: var(--background);
}
a { color: var(--orange); }
button {
  font: inherit;
  background: var(--orange);
  color: var(--white);
  border: none;
  border-radius: 6px;
  padding: .5em 1em;
  cursor: pointer;
}
button:hover { background: var(--dark-orange); }
`;

const bird = (fill: string, eye: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">` +
  `<path d="M8 40c6-14 18-24 34-24 5 0 9 2 12 5l6-1-4 6c1 2 1 4 1 6 0 12-11 20-25 20H10l8-6c-5-1-8-3-10-6z" fill="${fill}"/>` +
  `<circle cx="46" cy="26" r="3" fill="${eye}"/></svg>`;

export const BIRD_ORANGE_SVG = bird('#f35422', '#fdfaf5');
export const BIRD_PLAIN_SVG = bird('currentColor', '#ffffff');
export const KINODE_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 220 64" width="220" height="64">` +
  `<g transform="translate(0 0)">${bird('#f35422', '#fdfaf5').replace(/^<svg[^>]*>|<\/svg>$/g, '')}</g>` +
  `<text x="72" y="43" font-family="system-ui, sans-serif" font-size="34" font-weight="700" fill="#f35422">kinode</text></svg>`;
