// Helpers every view of the console uses.

/** Calls the console's JSON API; a 4xx/5xx answer throws an Error with the server's message. */
export async function api(path, options = {}) {
  const response = await fetch(`/console/api${path}`, {
    ...options,
    headers: { ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

/** Builds an element: h('p', { class: 'x', onclick: fn }, 'text', child). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'text') element.textContent = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** The view's heading and intro, the same on every view. */
export function header(title, intro) {
  return h('div', { class: 'view-header' }, h('h1', {}, title), intro ? h('p', { class: 'intro' }, intro) : null);
}

/** Says something to screen readers (and shows nothing). */
export function announce(message) {
  const announcer = document.getElementById('announcer');
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = message), 50);
}

export function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour12: false });
}

export function dateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 10)} ${date.toLocaleTimeString([], { hour12: false })}`;
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** An error box with role=alert, so that it is read out. */
export function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, error.message ?? String(error));
}

/** Runs fn now and every ms until the returned stop is called; overlapping runs are skipped. */
export function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await fn();
    } finally {
      busy = false;
    }
  };
  tick();
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
}
