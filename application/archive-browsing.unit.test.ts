import { describeArchiveObject } from './archive-browsing';
import { stampEvents } from './cart-commands';

const KEY = 'events/2026/12/05/08/part-0.jsonl';
let ids = 0;
const events = stampEvents('cart-archive-view', 0, [{ type: 'CartOpened', data: {} }, { type: 'ItemAdded', data: { sku: 'BOOK-1', quantity: 2 } }], new Date(0), () => `event-${ids++}`);

describe('an archive object as the console shows it', () => {
  test('counts events the way the replay reads them: an unreadable line is no event, a duplicate is apart', () => {
    const text = [JSON.stringify(events[0]), '{"truncated', JSON.stringify(events[1]), JSON.stringify(events[1]), ''].join('\n');
    const view = describeArchiveObject(KEY, text);
    expect({ events: view.events, duplicates: view.duplicates, unreadable: view.unreadable }).toEqual({ events: 2, duplicates: 1, unreadable: 1 });
    expect(view.lines.map((line) => [line.line, line.problem?.reason ?? line.type])).toEqual([
      [1, 'CartOpened'],
      [2, 'not-json'],
      [3, 'ItemAdded'],
      [4, 'duplicate'],
    ]);
    expect(view.lines[1]).toMatchObject({ unreadable: '{"truncated' });
  });

  test('a readable JSON line that is no envelope is counted as unreadable, not as an event', () => {
    const view = describeArchiveObject(KEY, `${JSON.stringify({ hello: 'world' })}\n${JSON.stringify(events[0])}\n`);
    expect({ events: view.events, unreadable: view.unreadable }).toEqual({ events: 1, unreadable: 1 });
    expect(view.lines[0]).toMatchObject({ hello: 'world', problem: { reason: 'not-an-envelope' } });
  });
});
