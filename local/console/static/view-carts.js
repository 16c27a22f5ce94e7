import { announce, api, badge, errorBox, h, header, json, time } from './ui.js';

/** Carts: find one by id; its stored events beside its read model, kept current while the view is open. */
export const cartsView = {
  title: 'Carts',
  render(main, initialCartId) {
    const input = h('input', { id: 'cart-id', name: 'cartId', type: 'search', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. 0f8c…-…', size: 40, value: initialCartId || '' });
    const form = h(
      'form',
      { class: 'inline-form', role: 'search', 'aria-label': 'Find a cart' },
      h('label', { for: 'cart-id' }, 'Cart id'),
      input,
      h('button', { type: 'submit' }, 'Find cart'),
    );
    const recent = h('section', { class: 'recent', 'aria-labelledby': 'recent-heading' }, h('h2', { id: 'recent-heading' }, 'Recently active carts'), h('p', { class: 'muted' }, 'Loading…'));
    const result = h('section', { id: 'cart-result', 'aria-live': 'polite', 'aria-busy': 'false' });
    main.append(header('Carts', "A cart's events as the event store holds them, beside its cart-summary read model. Updates live while open."), form, result, recent);

    let source;
    let refreshTimer;
    const show = async (cartId, { quiet = false } = {}) => {
      try {
        result.setAttribute('aria-busy', 'true');
        const cart = await api(`/carts/${encodeURIComponent(cartId)}`);
        result.replaceChildren(renderCart(cart));
        if (!quiet) announce(`Cart ${cartId}: ${cart.events.length} stored events, read model ${cart.readModel ? `at version ${cart.readModel.version}` : 'missing'}`);
      } catch (error) {
        result.replaceChildren(errorBox(error));
      } finally {
        result.setAttribute('aria-busy', 'false');
      }
    };
    const follow = (cartId) => {
      source?.close();
      clearInterval(refreshTimer);
      // A new stream record of the cart re-reads it; a slow poll catches the read model up after its event.
      source = new EventSource(`/console/api/stream/live?cart=${encodeURIComponent(cartId)}`);
      source.addEventListener('record', () => setTimeout(() => show(cartId, { quiet: true }), 300));
      refreshTimer = setInterval(() => show(cartId, { quiet: true }), 3_000);
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const cartId = input.value.trim();
      history.replaceState(null, '', `#carts/${encodeURIComponent(cartId)}`);
      show(cartId);
      follow(cartId);
    });

    api('/carts')
      .then(({ carts }) => {
        const list =
          carts.length === 0
            ? h('p', { class: 'muted' }, 'No cart events in the stream yet. Create one with POST /carts.')
            : h(
                'ul',
                { class: 'chips' },
                carts.map((cart) =>
                  h(
                    'li',
                    {},
                    h('button', { type: 'button', class: 'chip', onclick: () => ((input.value = cart.cartId), form.requestSubmit()) }, h('code', {}, cart.cartId), ` v${cart.version}`),
                  ),
                ),
              );
        recent.replaceChildren(recent.firstChild, list);
      })
      .catch((error) => recent.replaceChildren(recent.firstChild, errorBox(error)));

    if (initialCartId) {
      show(initialCartId);
      follow(initialCartId);
    }
    return () => {
      source?.close();
      clearInterval(refreshTimer);
    };
  },
};

function renderCart(cart) {
  const model = cart.readModel;
  const caughtUp = cart.readModelBehindBy === 0 && model;
  return h(
    'div',
    { class: 'cart' },
    h(
      'p',
      { class: 'cart-title' },
      'Cart ',
      h('code', {}, cart.cartId),
      ' — stored version ',
      h('strong', {}, cart.storedVersion),
      ' ',
      caughtUp ? badge('read model caught up', 'ok') : badge(model ? `read model ${cart.readModelBehindBy} behind` : 'no read model yet', 'warn'),
      h('span', { class: 'muted' }, ` updated ${time(new Date().toISOString())}`),
    ),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'timeline-heading' },
        h('h2', { id: 'timeline-heading' }, 'Stored events ', h('span', { class: 'muted' }, '(event store)')),
        cart.events.length === 0
          ? h('p', { class: 'muted' }, 'The event store has no events for this id.')
          : h(
              'ol',
              { class: 'timeline' },
              cart.events.map((event) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'version' }, `v${event.version}`),
                  h('span', { class: 'event-type' }, event.type),
                  h('time', { datetime: event.occurredAt }, time(event.occurredAt)),
                  h('code', { class: 'data' }, summarise(event.data)),
                ),
              ),
            ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'model-heading' },
        h('h2', { id: 'model-heading' }, 'Read model ', h('span', { class: 'muted' }, '(cart-summary)')),
        model
          ? h(
              'div',
              {},
              h('dl', { class: 'facts' }, h('dt', {}, 'Status'), h('dd', {}, badge(model.status, model.status === 'OPEN' ? 'ok' : 'closed')), h('dt', {}, 'Version'), h('dd', {}, model.version), h('dt', {}, 'Total quantity'), h('dd', {}, model.totalQuantity)),
              model.items.length === 0
                ? h('p', { class: 'muted' }, 'No items.')
                : h(
                    'table',
                    {},
                    h('caption', { class: 'visually-hidden' }, 'Items in the read model'),
                    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'SKU'), h('th', { scope: 'col', class: 'num' }, 'Quantity'))),
                    h('tbody', {}, model.items.map((item) => h('tr', {}, h('td', {}, h('code', {}, item.sku)), h('td', { class: 'num' }, item.quantity)))),
                  ),
              h('details', {}, h('summary', {}, 'Raw read model'), h('pre', {}, json(model))),
            )
          : h('p', { class: 'muted' }, 'The projection has no row for this cart (yet).'),
      ),
    ),
  );
}

function summarise(data) {
  const text = JSON.stringify(data ?? {});
  return text === '{}' ? '' : text.length > 90 ? `${text.slice(0, 87)}…` : text;
}
