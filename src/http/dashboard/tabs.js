// Tabs: buttons with role=tab that show one panel at a time.

import { el } from './dom.js';
import { fmtNum } from './format.js';

/**
 * Tabs: buttons with role=tab switching panels (hidden attribute). `onChange(name)` lets the page render
 * only what is visible. Returns { get(), set(name), setCount(name, n) }.
 */
export function tabs(bar, panels, onChange) {
  const buttons = [...bar.querySelectorAll('[data-tab]')];
  let current = buttons.find((b) => b.getAttribute('aria-selected') === 'true')?.dataset.tab ?? buttons[0]?.dataset.tab;
  const set = (name) => {
    current = name;
    for (const b of buttons) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
    onChange?.(name);
  };
  for (const b of buttons) {
    b.setAttribute('role', 'tab');
    b.type = 'button';
    b.addEventListener('click', () => set(b.dataset.tab));
  }
  set(current);
  return {
    get: () => current,
    set,
    setCount(name, n) {
      const b = buttons.find((x) => x.dataset.tab === name);
      if (!b) return;
      let c = b.querySelector('.count');
      if (!c) { c = el('span', { className: 'count' }); b.append(' ', c); }
      c.textContent = fmtNum(n);
    },
  };
}
