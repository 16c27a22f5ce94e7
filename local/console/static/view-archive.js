import { api, errorBox, h, header, json, time } from './ui.js';

/** Archive: the S3 archive's objects by arrival hour; open one to see its events. */
export const archiveView = {
  title: 'Archive',
  render(main) {
    const hours = h('div', { class: 'archive-hours' }, h('p', { class: 'muted' }, 'Loading…'));
    const viewer = h('section', { class: 'card viewer', 'aria-labelledby': 'object-heading', 'aria-live': 'polite' }, h('h2', { id: 'object-heading' }, 'Object'), h('p', { class: 'muted' }, 'Open an object to see its events.'));
    main.append(header('Archive', 'JSON Lines objects under events/YYYY/MM/DD/HH/, one folder per arrival hour: what replay reads.'), h('div', { class: 'columns archive' }, hours, viewer));

    const open = async (key) => {
      try {
        const object = await api(`/archive/object?key=${encodeURIComponent(key)}`);
        viewer.replaceChildren(
          h('h2', { id: 'object-heading', tabindex: '-1' }, 'Object ', h('code', {}, key.split('/').pop())),
          h('p', { class: 'muted', id: 'object-counts' }, objectCounts(object, key)),
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ['Cart', 'Version', 'Type', 'Occurred', ''].map((title) => h('th', { scope: 'col' }, title)))),
            h(
              'tbody',
              {},
              object.lines.map((line) =>
                h(
                  'tr',
                  {},
                  h('td', {}, line.aggregateId ? h('a', { href: `#carts/${encodeURIComponent(line.aggregateId)}` }, h('code', {}, line.aggregateId.slice(0, 8))) : ''),
                  h('td', { class: 'num' }, line.version ?? ''),
                  h('td', {}, line.problem ? h('span', { class: line.problem.reason === 'duplicate' ? 'muted' : 'error-text', title: line.problem.detail }, line.problem.reason === 'duplicate' ? 'duplicate (skipped)' : `not an event: ${line.problem.reason}`) : (line.type ?? '')),
                  h('td', {}, time(line.occurredAt)),
                  h('td', {}, h('details', {}, h('summary', {}, 'JSON'), h('pre', {}, json(line)))),
                ),
              ),
            ),
          ),
        );
        viewer.querySelector('h2').focus();
      } catch (error) {
        viewer.replaceChildren(h('h2', { id: 'object-heading' }, 'Object'), errorBox(error));
      }
    };

    api('/archive')
      .then(({ hours: list, bucket }) => {
        if (list.length === 0) {
          hours.replaceChildren(h('p', { class: 'empty' }, `The bucket ${bucket} has no archived events yet (the archiver flushes every 2 s).`));
          return;
        }
        hours.replaceChildren(
          ...list.map((hour, index) =>
            h(
              'details',
              { class: 'hour', open: index === 0 },
              h('summary', {}, h('strong', {}, hour.hour ? `${hour.hour.slice(0, 10)} ${hour.hour.slice(11, 16)} UTC` : 'Outside the layout'), ` — ${hour.objects.length} object(s), ${formatBytes(hour.bytes)}`),
              h(
                'ul',
                { class: 'objects' },
                hour.objects.map((object) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => open(object.key) }, object.key.split('/').pop()), h('span', { class: 'muted' }, ` ${formatBytes(object.size)}`))),
              ),
            ),
          ),
        );
      })
      .catch((error) => hours.replaceChildren(errorBox(error)));
    return () => {};
  },
};

/** The replay's count of an object: events, then what is not one, apart (a duplicate is expected, an unreadable line is not). */
function objectCounts(object, key) {
  const extra = [
    object.duplicates ? `${object.duplicates} duplicate line(s), skipped (at-least-once delivery)` : '',
    object.unreadable ? `${object.unreadable} unreadable line(s), not events` : '',
  ].filter(Boolean);
  return `${object.events} event(s) in ${key}${extra.length ? `; ${extra.join('; ')}` : ''}`;
}

function formatBytes(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
