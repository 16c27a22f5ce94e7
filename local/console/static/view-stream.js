import { api, badge, errorBox, h, header, time } from './ui.js';

const MARK_HELP = {
  duplicate: 'eventId already in the stream',
  redelivered: 'a duplicate after a later event of its cart',
  'out-of-order': 'first copy after a later version of its cart',
  gap: "the cart's previous version was not seen",
  replayed: 'republished by a replay',
  unreadable: 'data is not an event envelope',
};
const SHOWN = 300;

/** Stream: a live tail of the Kinesis stream, filterable by cart, with duplicates and redeliveries marked. */
export const streamView = {
  title: 'Stream',
  render(main) {
    const filter = h('input', { id: 'stream-cart', type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'all carts', size: 40 });
    const marked = h('input', { id: 'stream-marked', type: 'checkbox' });
    const pause = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
    const rate = h('span', { class: 'stat', 'aria-live': 'off' }, '– events/s');
    const count = h('p', { class: 'muted', role: 'status' });
    const body = h('tbody');
    const table = h(
      'table',
      { class: 'stream' },
      h('caption', { class: 'visually-hidden' }, 'Stream records, newest first'),
      h('thead', {}, h('tr', {}, ['Arrived', 'Shard', 'Sequence', 'Cart', 'Version', 'Type', 'Event id', 'Marks'].map((title) => h('th', { scope: 'col' }, title)))),
      body,
    );
    main.append(
      header('Stream', 'A live tail of the Kinesis stream from its oldest record. Every record is checked against the ones before it.'),
      h(
        'form',
        { class: 'inline-form', 'aria-label': 'Filter the stream', onsubmit: (event) => event.preventDefault() },
        h('label', { for: 'stream-cart' }, 'Cart id'),
        filter,
        h('label', { class: 'check' }, marked, ' only marked records'),
        pause,
        rate,
      ),
      h('ul', { class: 'legend', 'aria-label': 'Marks' }, Object.entries(MARK_HELP).map(([mark, help]) => h('li', {}, badge(mark), ' ', help))),
      count,
      h('div', { class: 'table-wrap' }, table),
    );

    let records = [];
    let paused = false;
    let source;
    const visible = (record) => (!filter.value.trim() || record.partitionKey === filter.value.trim()) && (!marked.checked || record.marks.length > 0);
    const draw = () => {
      // Shards are read in turns: order by arrival for reading, keeping each shard's own order for equal times.
      const shown = records
        .map((record, index) => ({ record, index }))
        .filter(({ record }) => visible(record))
        .sort((a, b) => a.record.arrivedAt.localeCompare(b.record.arrivedAt) || a.index - b.index)
        .slice(-SHOWN)
        .reverse()
        .map(({ record }) => record);
      body.replaceChildren(...shown.map(row));
      count.textContent = `${shown.length} record(s) shown${paused ? ', paused' : ''}; ${records.filter((r) => r.marks.includes('duplicate')).length} duplicate(s) in the last ${records.length}.`;
    };
    let loads = 0;
    const load = async () => {
      const current = ++loads;
      try {
        const cart = filter.value.trim();
        const page = await api(`/stream?limit=2000${cart ? `&cart=${encodeURIComponent(cart)}` : ''}`);
        // Typing sends several loads: only the latest one's answer is shown.
        if (current !== loads) return;
        records = page.records;
        rate.textContent = `${page.eventsPerSecond.toFixed(1)} events/s`;
        draw();
      } catch (error) {
        count.replaceChildren(errorBox(error));
      }
    };
    const connect = () => {
      source?.close();
      source = new EventSource('/console/api/stream/live');
      source.addEventListener('record', (event) => {
        records.push(JSON.parse(event.data));
        if (records.length > 2000) records.splice(0, records.length - 2000);
        if (!paused) draw();
      });
    };
    filter.addEventListener('input', () => load());
    marked.addEventListener('change', draw);
    pause.addEventListener('click', () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume' : 'Pause';
      draw();
    });
    const rateTimer = setInterval(() => api('/stream?limit=1').then((page) => (rate.textContent = `${page.eventsPerSecond.toFixed(1)} events/s`)).catch(() => {}), 2_000);
    load().then(connect);
    return () => {
      source?.close();
      clearInterval(rateTimer);
    };
  },
};

function row(record) {
  const envelope = record.envelope;
  return h(
    'tr',
    { class: record.marks.length ? 'marked' : '' },
    h('td', {}, h('time', { datetime: record.arrivedAt }, time(record.arrivedAt))),
    h('td', {}, record.shardId.replace('shardId-', '')),
    h('td', { title: record.sequenceNumber }, h('code', {}, `…${record.sequenceNumber.slice(-8)}`)),
    h('td', {}, envelope ? h('a', { href: `#carts/${encodeURIComponent(envelope.aggregateId)}` }, h('code', {}, envelope.aggregateId.slice(0, 8))) : h('code', {}, record.partitionKey)),
    h('td', { class: 'num' }, envelope?.version ?? ''),
    h('td', {}, envelope?.type ?? h('code', {}, (record.raw ?? '').slice(0, 40))),
    h('td', { title: envelope?.eventId ?? '' }, h('code', {}, envelope ? envelope.eventId.slice(0, 8) : '')),
    h('td', {}, record.marks.map((mark) => badge(mark)), record.firstSeenAt ? h('span', { class: 'muted' }, ` first …${record.firstSeenAt.slice(-8)}`) : null),
  );
}
