import { announce, api, badge, dateTime, errorBox, h, header, json } from './ui.js';

const ROUTES = {
  'stream-record': 'the enrichment, then the Pipe’s target (Kinesis)',
  'pipe-batch': 'read back from the table’s stream, then the enrichment and the Pipe’s target (Kinesis)',
  envelope: 'the Pipe’s target (Kinesis)',
  'consumer-batch': 'its consumer',
};

/** Dead letters: the list with reasons; redrive one or all. A letter is removed only once its redrive succeeded. */
export const deadLettersView = {
  title: 'Dead letters',
  render(main) {
    const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const outcome = h('div', { id: 'redrive-outcome', role: 'status', 'aria-live': 'polite' });
    const redriveAll = h('button', { type: 'button', class: 'primary' }, 'Redrive all');
    main.append(
      header('Dead letters', 'Records the Pipe, its enrichment or a consumer gave up on. A CDC letter goes back through the enrichment and the Pipe’s target; a consumer letter back through its consumer.'),
      h('div', { class: 'toolbar' }, redriveAll, h('button', { type: 'button', onclick: () => load() }, 'Refresh')),
      outcome,
      list,
    );

    const redrive = async (body, button) => {
      const buttons = main.querySelectorAll('button');
      buttons.forEach((b) => (b.disabled = true));
      button.textContent = 'Redriving…';
      try {
        const result = await api('/dead-letters/redrive', { method: 'POST', body: JSON.stringify(body) });
        const failures = result.outcomes.filter((o) => !o.redriven);
        outcome.replaceChildren(
          h('p', { class: failures.length ? 'notice warn' : 'notice ok' }, `${result.redriven} letter(s) redriven, ${result.failed} kept.`),
          failures.length ? h('ul', { class: 'failures' }, failures.map((f) => h('li', {}, h('code', {}, f.id), `: ${f.reason}`))) : null,
        );
        announce(`${result.redriven} letter(s) redriven, ${result.failed} kept`);
      } catch (error) {
        outcome.replaceChildren(errorBox(error));
      }
      buttons.forEach((b) => (b.disabled = false));
      await load();
    };
    redriveAll.addEventListener('click', () => redrive({ all: true }, redriveAll));

    const load = async () => {
      try {
        const { letters } = await api('/dead-letters');
        redriveAll.disabled = letters.length === 0;
        redriveAll.textContent = 'Redrive all';
        if (letters.length === 0) {
          list.replaceChildren(h('p', { class: 'empty' }, 'No dead letters. Nothing was given up on.'));
          return;
        }
        list.replaceChildren(
          h(
            'table',
            { class: 'letters' },
            h('caption', {}, `${letters.length} pending letter(s), oldest first`),
            h('thead', {}, h('tr', {}, ['Failed at', 'Source', 'Reason', 'Goes back through', 'Ids', ''].map((title) => h('th', { scope: 'col' }, title)))),
            h(
              'tbody',
              {},
              letters.map((letter) => {
                const button = h('button', { type: 'button', 'aria-label': `Redrive letter ${letter.id}` }, 'Redrive');
                button.addEventListener('click', () => redrive({ ids: [letter.id] }, button));
                return h(
                  'tr',
                  { id: `letter-${letter.id}` },
                  h('td', {}, dateTime(letter.failedAt)),
                  h('td', {}, badge(letter.source, 'source')),
                  h('td', { class: 'reason' }, letter.reason),
                  h('td', {}, ROUTES[letter.kind] ?? 'cannot be redriven'),
                  h(
                    'td',
                    { class: 'ids' },
                    h('dl', {}, Object.entries(letter.ids ?? {}).filter(([, value]) => value !== undefined && typeof value !== 'object').slice(0, 4).flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, h('code', {}, String(value)))])),
                    h('details', {}, h('summary', {}, 'letter ', h('code', {}, letter.id)), h('pre', {}, json({ ids: letter.ids, payload: letter.payload }))),
                  ),
                  h('td', {}, button),
                );
              }),
            ),
          ),
        );
      } catch (error) {
        list.replaceChildren(errorBox(error));
      }
    };
    load();
    return () => {};
  },
};
