// The console's shell: hash routing between views, and the helpers every view uses. Plain ES modules, no build.
import { cartsView } from './view-carts.js';
import { streamView } from './view-stream.js';
import { pipelineView } from './view-pipeline.js';
import { deadLettersView } from './view-dead-letters.js';
import { archiveView } from './view-archive.js';
import { executionsView } from './view-executions.js';

const VIEWS = {
  carts: cartsView,
  stream: streamView,
  pipeline: pipelineView,
  'dead-letters': deadLettersView,
  archive: archiveView,
  executions: executionsView,
};

let cleanup = () => {};

function route() {
  const [name, ...rest] = decodeURIComponent(location.hash.slice(1)).split('/');
  const id = Object.hasOwn(VIEWS, name) ? name : 'carts';
  const view = VIEWS[id];
  cleanup();
  const main = document.getElementById('view');
  main.replaceChildren();
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#${id}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view.title} · cdc-cart console`;
  cleanup = view.render(main, rest.join('/')) ?? (() => {});
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
