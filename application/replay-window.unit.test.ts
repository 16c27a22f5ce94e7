import fc from 'fast-check';
import { archiveHourPrefix, arrivalHourOf, hourWindow, isKeyInWindow, listingPrefix } from './replay-window';

const HOUR = 3_600_000;

describe('archive keys and replay windows', () => {
  it('reads the arrival hour from a key of the layout, and nothing from other keys', () => {
    expect(arrivalHourOf('events/2024/05/01/10/part-1.jsonl')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(arrivalHourOf('events/2024/02/31/10/x.jsonl')).toBeUndefined();
    expect(arrivalHourOf('events/2024/05/01/10/sub/x.jsonl')).toBeUndefined();
    expect(arrivalHourOf('replay-results/manifest.json')).toBeUndefined();
  });

  it('selects an object when any part of its hour meets [from, to]', () => {
    const window = hourWindow('2024-05-01T10:30:00Z', '2024-05-01T12:00:00Z');
    expect(isKeyInWindow('events/2024/05/01/09/a.jsonl', window)).toBe(false);
    expect(isKeyInWindow('events/2024/05/01/10/a.jsonl', window)).toBe(true);
    expect(isKeyInWindow('events/2024/05/01/12/a.jsonl', window)).toBe(true);
    expect(isKeyInWindow('events/2024/05/01/13/a.jsonl', window)).toBe(false);
    expect(isKeyInWindow('events/2024/05/01/13/a.jsonl', hourWindow())).toBe(true);
  });

  it('lists by whole folders shared by both ends of the window', () => {
    expect(listingPrefix(hourWindow('2024-05-01T10:00:00Z', '2024-05-01T19:00:00Z'))).toBe('events/2024/05/01/');
    expect(listingPrefix(hourWindow('2024-05-01T10:00:00Z', '2024-05-01T10:59:00Z'))).toBe('events/2024/05/01/10/');
    expect(listingPrefix(hourWindow('2024-05-01T10:00:00Z', '2024-06-01T10:00:00Z'))).toBe('events/2024/');
    expect(listingPrefix(hourWindow('2024-05-01T10:00:00Z'))).toBe('events/');
  });

  it('never lists fewer objects than the window holds', () => {
    const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
    fc.assert(
      fc.property(instant, instant, instant, (a, b, objectHour) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const window = hourWindow(new Date(from).toISOString(), new Date(to).toISOString());
        const key = `${archiveHourPrefix(objectHour)}x.jsonl`;
        const overlaps = objectHour - (objectHour % HOUR) + HOUR > from && objectHour - (objectHour % HOUR) <= to;
        expect(isKeyInWindow(key, window)).toBe(overlaps);
        if (overlaps) expect(key.startsWith(listingPrefix(window))).toBe(true);
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});
