import fc from 'fast-check';
import type { DeadLetter, DeadLetterQueue } from '../application/dead-letters';
import type { StoreLayout } from '../domain/cdc';
import type { EventEnvelope } from '../domain/events';
import { createEnrichment } from '../lambdas/cdc-enrichment/enrich';
import { EnrichmentOutputTooLarge, MAX_ENVELOPES_PER_RESPONSE } from '../lambdas/cdc-enrichment/output-limits';
import { cartHistory, envelope, seedCartHistory, StreamRecordFactory, type Commit, type StreamRecordJson } from './support/cdc-stream-records';

class CollectingDeadLetters implements DeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters);
  }
}

function enrichment(layout: StoreLayout) {
  const deadLetters = new CollectingDeadLetters();
  return { enrich: createEnrichment({ layout, deadLetters }), deadLetters };
}

type History = (cartId: string, length: number, closed: boolean) => EventEnvelope[];
const ourHistory: History = (cartId, length) => cartHistory(cartId, length);
/** What the seed could have written (no ItemRemoved; item names with spaces and odd characters), as lifted today. */
const seedHistory: History = (cartId, length, closed) => seedCartHistory(cartId, length, { closed });

/** Random commits on random carts, each cart's events valid and in version order, commits interleaved. */
const commitsOf = (history: History) => fc
  .array(
    fc.record({ length: fc.integer({ min: 1, max: 12 }), closed: fc.boolean(), commitSizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 12, maxLength: 12 }) }),
    { minLength: 1, maxLength: 5 },
  )
  .chain((carts) => {
    const perCart: Commit[][] = carts.map(({ length, closed, commitSizes }, index) => {
      const events = history(`cart-${index}`, length, closed);
      const commits: Commit[] = [];
      for (let at = 0, i = 0; at < events.length; i++) {
        const size = commitSizes[i % commitSizes.length]!;
        commits.push({ cartId: `cart-${index}`, events: events.slice(at, at + size) });
        at += size;
      }
      return commits;
    });
    const total = perCart.reduce((n, commits) => n + commits.length, 0);
    // An interleaving: which cart's next commit comes next, keeping each cart's own order.
    return fc.array(fc.nat({ max: perCart.length - 1 }), { minLength: total, maxLength: total }).map((picks) => {
      const cursors = perCart.map(() => 0);
      const order: Commit[] = [];
      for (const pick of picks) {
        let cart = pick;
        while (cursors[cart]! >= perCart[cart]!.length) cart = (cart + 1) % perCart.length;
        order.push(perCart[cart]![cursors[cart]!++]!);
      }
      return order;
    });
  });
const commitsArbitrary = commitsOf(ourHistory);

/** The seed has no ItemRemoved: in a seed table the same place holds another ItemAdded. */
const asSeedCouldWrite = (event: EventEnvelope): EventEnvelope => (event.type === 'ItemRemoved' ? { ...event, type: 'ItemAdded' } : event);

const committedEvents = (commits: readonly Commit[]) => commits.flatMap((commit) => commit.events);

function byCart(events: readonly EventEnvelope[]): Map<string, EventEnvelope[]> {
  const carts = new Map<string, EventEnvelope[]>();
  for (const event of events) carts.set(event.aggregateId, [...(carts.get(event.aggregateId) ?? []), event]);
  return carts;
}

const withoutMetadata = ({ metadata: _metadata, ...rest }: EventEnvelope) => rest;

async function splitInBatches(enrich: (records: unknown) => Promise<EventEnvelope[]>, records: StreamRecordJson[], batchSize: number) {
  const out: EventEnvelope[] = [];
  for (let at = 0; at < records.length; at += batchSize) out.push(...(await enrich(records.slice(at, at + batchSize))));
  return out;
}

describe('splitting stream records into events', () => {
  it.each<[StoreLayout, (factory: StreamRecordFactory, commits: Commit[]) => StreamRecordJson[], History]>([
    ['event-per-item', (factory, commits) => factory.eventPerItem(commits), ourHistory],
    ['aggregate-item', (factory, commits) => factory.aggregateItem(commits), seedHistory],
  ])('%s: yields exactly the committed events, each once, in version order per cart', async (layout, build, history) => {
    await fc.assert(
      fc.asyncProperty(commitsOf(history), fc.boolean(), fc.integer({ min: 1, max: 20 }), async (commits, dynamoDbLocal, batchSize) => {
        const factory = new StreamRecordFactory({ dynamoDbLocalEmptyMaps: dynamoDbLocal });
        const records = build(factory, commits);
        const { enrich, deadLetters } = enrichment(layout);
        const published = await splitInBatches(enrich, records, batchSize);

        expect(deadLetters.letters).toEqual([]);
        const expected = committedEvents(commits);
        if (layout === 'event-per-item') {
          expect(published.map(withoutMetadata)).toEqual(expected);
        } else {
          // The seed's payloads arrive lifted to today's (current schemaVersion); it stored no time, the record supplies it.
          expect(published.map(({ occurredAt: _at, ...rest }) => withoutMetadata({ ...rest, occurredAt: '' }))).toEqual(
            expected.map((event) => ({ ...event, occurredAt: '' })),
          );
          expect(new Set(published.map((e) => e.occurredAt))).toEqual(new Set(['2026-09-21T14:13:20.000Z']));
        }
        for (const [cartId, events] of byCart(published)) {
          expect(events.map((e) => e.version)).toEqual(byCart(expected).get(cartId)!.map((e) => e.version));
        }
        // Each envelope names the stream record it came from.
        const sequenceOf = new Map(records.map((r) => [r.dynamodb.SequenceNumber, r]));
        for (const event of published) expect(sequenceOf.has(event.metadata!.sequenceNumber!)).toBe(true);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('ignores REMOVE records and records without events, wherever they fall in the stream', async () => {
    await fc.assert(
      fc.asyncProperty(commitsArbitrary, fc.array(fc.nat(), { maxLength: 6 }), async (commits, positions) => {
        const factory = new StreamRecordFactory();
        const records = factory.eventPerItem(commits);
        const seedFactory = new StreamRecordFactory();
        const seedCommits = commits.map((commit) => ({ ...commit, events: commit.events.map(asSeedCouldWrite) }));
        const seedRecords = seedFactory.aggregateItem(seedCommits);
        for (const position of positions) {
          const victim = records[position % records.length]!;
          records.splice(position % (records.length + 1), 0, { ...victim, eventName: 'REMOVE', dynamodb: { ...victim.dynamodb, OldImage: victim.dynamodb.NewImage, NewImage: undefined } });
          const seedVictim = seedRecords[position % seedRecords.length]!;
          seedRecords.splice(position % (seedRecords.length + 1), 0, seedFactory.record('MODIFY', { Uuid: 'other' }, { old: { Uuid: 'other' }, new: { Uuid: 'other', Note: 'no events' } }));
          seedRecords.splice(position % (seedRecords.length + 1), 0, { ...seedVictim, eventName: 'REMOVE', dynamodb: { ...seedVictim.dynamodb, OldImage: seedVictim.dynamodb.NewImage, NewImage: undefined } });
        }
        const perItem = enrichment('event-per-item');
        expect((await perItem.enrich(records)).map(withoutMetadata)).toEqual(committedEvents(commits));
        const seed = enrichment('aggregate-item');
        expect((await seed.enrich(seedRecords)).map((e) => e.eventId)).toEqual(committedEvents(seedCommits).map((e) => e.eventId));
        expect([...perItem.deadLetters.letters, ...seed.deadLetters.letters]).toEqual([]);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('dead-letters malformed records with a reason naming them, and lets every other event through', async () => {
    const corruptions: ((record: StreamRecordJson) => unknown)[] = [
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, version: { S: 'three' } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, eventId: undefined } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, type: { S: 'ItemStolen' } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, data: { M: { sku: { S: 'bad sku!' }, quantity: { N: '1' } } } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, occurredAt: { S: 'yesterday' } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, schemaVersion: { N: '9' } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: { ...r.dynamodb.NewImage, data: { Q: 'not an attribute value' } } } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: undefined } }),
      (r) => ({ ...r, dynamodb: { ...r.dynamodb, SequenceNumber: undefined } }),
      () => 'not a record',
    ];
    await fc.assert(
      fc.asyncProperty(commitsArbitrary, fc.array(fc.tuple(fc.nat(), fc.nat({ max: corruptions.length - 1 })), { minLength: 1, maxLength: 5 }), async (commits, picks) => {
        const records: unknown[] = new StreamRecordFactory({ dynamoDbLocalEmptyMaps: true }).eventPerItem(commits);
        const events = committedEvents(commits);
        const broken = new Map<number, number>();
        for (const [position, corruption] of picks) broken.set(position % records.length, corruption);
        for (const [index, corruption] of broken) records[index] = corruptions[corruption]!(records[index] as StreamRecordJson);

        const { enrich, deadLetters } = enrichment('event-per-item');
        const published = await enrich(records);

        expect(published.map(withoutMetadata)).toEqual(events.filter((_, index) => !broken.has(index)));
        expect(deadLetters.letters).toHaveLength(broken.size);
        for (const letter of deadLetters.letters) {
          expect(letter.source).toBe('cdc-enrichment');
          expect(letter.reason).toMatch(/^stream record .+ \(keys .*\): .+/);
          expect(records).toContain(letter.payload);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});

describe('the aggregate-item (seed) layout', () => {
  const factory = () => new StreamRecordFactory({ approximateCreationDateTime: 1_790_000_040 });

  it('publishes a batch as the seed wrote it (INSERT, then MODIFYs) as today\'s events, and dead-letters a seed event of another cart', async () => {
    const f = factory();
    const cart = 'f3c1d2e4-0000-4000-8000-000000000001';
    const opened = { EventUuid: 'e-1', AggregateUuid: cart, Name: 'CartOpened', Data: { shopping_cart_uuid: cart }, Version: 1 };
    const mug = { EventUuid: 'e-2', AggregateUuid: cart, Name: 'ItemAdded', Data: { shopping_cart_uuid: cart, item_name: 'Red Mug' }, Version: 2 };
    const closed = { EventUuid: 'e-3', AggregateUuid: cart, Name: 'CartClosed', Data: { shopping_cart_uuid: cart }, Version: 3 };
    const stray = { EventUuid: 'e-4', AggregateUuid: 'c2', Name: 'ItemAdded', Data: { shopping_cart_uuid: 'c1', item_name: 'pear' }, Version: 2 };
    const batch = [
      f.record('INSERT', { Uuid: cart }, { new: { Uuid: cart, Events: [opened] } }),
      f.record('MODIFY', { Uuid: cart }, { old: { Uuid: cart, Events: [opened] }, new: { Uuid: cart, Events: [opened, mug] } }),
      f.record('MODIFY', { Uuid: cart }, { old: { Uuid: cart, Events: [opened, mug] }, new: { Uuid: cart, Events: [opened, mug, closed] } }),
      f.record('MODIFY', { Uuid: 'c2' }, { old: { Uuid: 'c2', Events: [{ ...opened, AggregateUuid: 'c2', Data: { shopping_cart_uuid: 'c2' } }] }, new: { Uuid: 'c2', Events: [{ ...opened, AggregateUuid: 'c2', Data: { shopping_cart_uuid: 'c2' } }, stray] } }),
    ];
    const { enrich, deadLetters } = enrichment('aggregate-item');
    const published = await enrich(batch);
    expect(published.map(({ eventId, version, type, schemaVersion, data }) => ({ eventId, version, type, schemaVersion, data }))).toEqual([
      { eventId: 'e-1', version: 1, type: 'CartOpened', schemaVersion: 1, data: {} },
      { eventId: 'e-2', version: 2, type: 'ItemAdded', schemaVersion: 2, data: { sku: 'Red-Mug-6569337052d9', quantity: 1, name: 'Red Mug' } },
      { eventId: 'e-3', version: 3, type: 'CartClosed', schemaVersion: 1, data: {} },
    ]);
    expect(deadLetters.letters).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining('event e-4 (version 2): shopping_cart_uuid "c1" is not the cart the event belongs to ("c2")'),
        ids: expect.objectContaining({ problem: 'rejected-event' }),
      }),
    ]);
  });

  it('dead-letters what the seed could not have written: an unknown name, an ItemRemoved, today\'s payload', async () => {
    const f = factory();
    const cart = 'c9';
    const opened = { EventUuid: 'o', Name: 'CartOpened', Data: { shopping_cart_uuid: cart }, Version: 1 };
    const records = [
      { EventUuid: 'x1', Name: 'CartTeleported', Data: { shopping_cart_uuid: cart }, Version: 2 },
      { EventUuid: 'x2', Name: 'ItemRemoved', Data: { shopping_cart_uuid: cart, item_name: 'pear' }, Version: 2 },
      { EventUuid: 'x3', Name: 'ItemAdded', Data: { sku: 'pear', quantity: 1 }, Version: 2 },
    ].map((event) => f.record('MODIFY', { Uuid: cart }, { old: { Uuid: cart, Events: [opened] }, new: { Uuid: cart, Events: [opened, event] } }));
    const { enrich, deadLetters } = enrichment('aggregate-item');
    expect(await enrich(records)).toEqual([]);
    expect(deadLetters.letters.map((letter) => letter.reason)).toEqual([
      expect.stringContaining('the seed has no event type "CartTeleported"'),
      expect.stringContaining('the seed has no event type "ItemRemoved"'),
      expect.stringMatching(/ItemAdded \(version seed-v0\) data rejected/),
    ]);
  });

  it('publishes only the events a MODIFY appended, even when old and new images list them in another order', async () => {
    const history = seedCartHistory('seed-cart', 6);
    const f = factory();
    const [, modify] = f.aggregateItem([{ cartId: 'seed-cart', events: history.slice(0, 3) }, { cartId: 'seed-cart', events: history.slice(3) }]);
    const events = modify!.dynamodb.NewImage!.Events!.L!;
    modify!.dynamodb.NewImage!.Events!.L = [events[4]!, events[0]!, events[5]!, events[1]!, events[3]!, events[2]!];
    const { enrich } = enrichment('aggregate-item');
    const published = await enrich([modify]);
    expect(published.map((e) => e.version)).toEqual([4, 5, 6]);
    expect(published[0]).toEqual({
      eventId: history[3]!.eventId,
      aggregateType: 'Cart',
      aggregateId: 'seed-cart',
      version: 4,
      type: 'ItemAdded',
      schemaVersion: 2,
      occurredAt: '2026-09-21T14:14:00.000Z',
      data: history[3]!.data,
      metadata: { sequenceNumber: modify!.dynamodb.SequenceNumber },
    });
  });

  it('dead-letters a MODIFY whose events share a version, or whose event names another aggregate', async () => {
    const f = factory();
    const a = envelope('seed-a', 1, 'CartOpened', {});
    const clash = { ...envelope('seed-a', 1, 'CartClosed', {}) };
    const [twoAtOne] = f.aggregateItem([{ cartId: 'seed-a', events: [a, clash] }]);
    const [foreign] = f.aggregateItem([{ cartId: 'seed-b', events: [envelope('seed-c', 1, 'CartOpened', {})] }]);
    const { enrich, deadLetters } = enrichment('aggregate-item');
    expect(await enrich([twoAtOne, foreign])).toEqual([]);
    expect(deadLetters.letters.map((l) => l.reason)).toEqual([
      expect.stringContaining('share version 1'),
      expect.stringContaining('names aggregate seed-c inside item seed-b'),
    ]);
  });

  it('refuses a batch whose records together exceed one response, and dead-letters one record that alone does', async () => {
    const f = factory();
    const big = f.aggregateItem([{ cartId: 'big', events: seedCartHistory('big', MAX_ENVELOPES_PER_RESPONSE + 1) }]);
    const halves = f.aggregateItem([
      { cartId: 'half-1', events: seedCartHistory('half-1', 300) },
      { cartId: 'half-2', events: seedCartHistory('half-2', 300) },
    ]);
    const { enrich, deadLetters } = enrichment('aggregate-item');
    await expect(enrich([...halves, ...big])).rejects.toBeInstanceOf(EnrichmentOutputTooLarge);
    expect(deadLetters.letters).toEqual([]);
    expect(await enrich([halves[0], ...big])).toHaveLength(300);
    expect(deadLetters.letters).toEqual([expect.objectContaining({ ids: expect.objectContaining({ problem: 'too-large' }) })]);
  });
});

describe('the event-per-item layout', () => {
  it('publishes nothing for a MODIFY that rewrites an event in place, and the new event if its identity changed', async () => {
    const f = new StreamRecordFactory();
    const event = envelope('cart-m', 2, 'ItemAdded', { sku: 'A', quantity: 1 });
    const [insert] = f.eventPerItem([{ cartId: 'cart-m', events: [event] }]);
    const same = f.record('MODIFY', { aggregateId: 'cart-m', version: 2 }, { old: { ...event, metadata: undefined }, new: { ...event, metadata: undefined } });
    const replaced = { ...event, eventId: 'other-id' };
    const changed = f.record('MODIFY', { aggregateId: 'cart-m', version: 2 }, { old: { ...event }, new: { ...replaced } });
    const { enrich } = enrichment('event-per-item');
    expect((await enrich([insert, same, changed])).map((e) => e.eventId)).toEqual([event.eventId, 'other-id']);
  });

  it('rejects an input that is not a batch of records as a whole', async () => {
    const { enrich } = enrichment('event-per-item');
    await expect(enrich({ Records: [] })).rejects.toThrow(/array of DynamoDB stream records/);
    expect(await enrich([])).toEqual([]);
  });

  it('keeps the records when the dead-letter queue cannot take them: the batch fails and is retried', async () => {
    const failing: DeadLetterQueue = { send: async () => Promise.reject(new Error('queue unavailable')) };
    const enrich = createEnrichment({ layout: 'event-per-item', deadLetters: failing });
    await expect(enrich(['garbage'])).rejects.toThrow('queue unavailable');
  });
});
