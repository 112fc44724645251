// DOM building: elements whose strings always become text nodes (never markup), and lookups by id.
// Every upstream string reaches the page through `el` / `fill` (textContent / createTextNode): nothing here
// assigns innerHTML or builds markup from data. There is no `style` prop: the pages run under a strict CSP
// (no inline script, handler or style attribute); dynamic widths go through the CSSOM, which CSP allows.

/** Creates an element. props: className, title, id, text, attrs{}, data{}, on{event: fn}; children: strings, nodes, arrays, null. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'className') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'title') node.title = String(v);
      else if (k === 'attrs') for (const [a, av] of Object.entries(v)) { if (av !== undefined && av !== null && av !== false) node.setAttribute(a, String(av)); }
      else if (k === 'data') for (const [d, dv] of Object.entries(v)) { if (dv !== undefined && dv !== null) node.dataset[d] = String(dv); }
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === 'hidden') node.hidden = Boolean(v);
      else if (k === 'value') node.value = String(v);
      else if (k === 'type') node.type = String(v);
      else throw new Error(`el: unknown prop ${k}`);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces a node's children (strings become text). */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}
