import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { toItem } from '../../adapters/dynamodb/event-store';
import fc from 'fast-check';
import { CART_EVENT_TYPES, CURRENT_SCHEMA_VERSION, skuOfSeedItemName, type CartEvent } from '../../domain/cart';
import { eventArbitraries } from '../../domain/cart/arbitraries';
import type { EventEnvelope } from '../../domain/events';

/**
 * Builds DynamoDB stream records the way DynamoDB Streams writes them for the two store layouts, so that tests and
 * benchmarks feed the enrichment exactly what a Pipe hands it.
 */
export interface StreamRecordJson {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  eventSourceARN: string;
  dynamodb: {
    ApproximateCreationDateTime?: number;
    Keys: Record<string, AttributeValue>;
    NewImage?: Record<string, AttributeValue>;
    OldImage?: Record<string, AttributeValue>;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: 'NEW_AND_OLD_IMAGES';
  };
}

/** One write to the store: the events one command appended to one cart. */
export interface Commit {
  readonly cartId: string;
  readonly events: readonly EventEnvelope[];
}

export interface RecordOptions {
  /** Write empty maps as DynamoDB Local's stream does: `{}` instead of `{"M":{}}`. */
  readonly dynamoDbLocalEmptyMaps?: boolean;
  /** Epoch seconds of the change; defaults to a fixed instant. */
  readonly approximateCreationDateTime?: number;
}

const STREAM_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/cart-events/stream/2026-01-01T00:00:00.000';

export class StreamRecordFactory {
  private sequence = 100_000_000_000_000_000_000n;

  constructor(private readonly options: RecordOptions = {}) {}

  record(eventName: StreamRecordJson['eventName'], keys: Record<string, unknown>, images: { old?: Record<string, unknown>; new?: Record<string, unknown> }): StreamRecordJson {
    this.sequence += 1n;
    const image = (value: Record<string, unknown>) => {
      const marshalled = marshall(value, { removeUndefinedValues: true });
      return this.options.dynamoDbLocalEmptyMaps ? asDynamoDbLocal(marshalled) : marshalled;
    };
    const NewImage = images.new ? image(images.new) : undefined;
    const OldImage = images.old ? image(images.old) : undefined;
    const Keys = marshall(keys);
    return {
      eventID: `evt-${this.sequence}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: STREAM_ARN,
      dynamodb: {
        ApproximateCreationDateTime: this.options.approximateCreationDateTime ?? 1_790_000_000,
        Keys,
        ...(NewImage ? { NewImage } : {}),
        ...(OldImage ? { OldImage } : {}),
        SequenceNumber: String(this.sequence),
        SizeBytes: JSON.stringify([Keys, NewImage, OldImage]).length,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  }

  /** This project's layout: each event is its own item, so each event is one INSERT record. */
  eventPerItem(commits: readonly Commit[]): StreamRecordJson[] {
    return commits.flatMap((commit) =>
      commit.events.map((event) => this.record('INSERT', { aggregateId: event.aggregateId, version: event.version }, { new: toItem(event) })),
    );
  }

  /**
   * The seed's layout: one item per cart whose Events list grows; its first write is an INSERT, later ones MODIFY.
   * Events are written in the seed's payload shape (seedEvent).
   */
  aggregateItem(commits: readonly Commit[]): StreamRecordJson[] {
    const items = new Map<string, Record<string, unknown>[]>();
    return commits.map((commit) => {
      const before = items.get(commit.cartId);
      const after = [...(before ?? []), ...commit.events.map(seedEvent)];
      items.set(commit.cartId, after);
      const keys = { Uuid: commit.cartId };
      return before
        ? this.record('MODIFY', keys, { old: { Uuid: commit.cartId, Events: before }, new: { Uuid: commit.cartId, Events: after } })
        : this.record('INSERT', keys, { new: { Uuid: commit.cartId, Events: after } });
    });
  }
}

/**
 * An event of today as the seed's Ruby code would have written it: its payload in the seed's shape (the cart id
 * repeated, ItemAdded naming the item by `item_name`). The seed has no ItemRemoved; build seed histories with
 * seedCartHistory.
 */
export function seedEvent(event: EventEnvelope): Record<string, unknown> {
  return { EventUuid: event.eventId, AggregateUuid: event.aggregateId, Name: event.type, Data: seedPayload(event), Version: event.version };
}

export function seedPayload(event: Pick<EventEnvelope, 'aggregateId' | 'type' | 'data'>): Record<string, unknown> {
  switch (event.type) {
    case 'CartOpened':
    case 'CartClosed':
      return { shopping_cart_uuid: event.aggregateId };
    case 'ItemAdded':
      return { shopping_cart_uuid: event.aggregateId, item_name: String(event.data.name ?? event.data.sku) };
    default:
      throw new Error(`the seed has no ${event.type} event`);
  }
}

/** Item names as a shop's staff might have typed them into the seed: spaces, accents, punctuation, emoji. */
export const SEED_ITEM_NAMES = ['apple', 'Red Mug', 'Crème brûlée', 'T-shirt (XL) / blue', '☕ beans 1kg', 'pear', '  padded  ', 'A-1'];

/**
 * A cart history the seed could have written, in the shape its upcasters lift it to: opened, `length - 2` items
 * added (one each, named from SEED_ITEM_NAMES), closed when `closed`.
 */
export function seedCartHistory(cartId: string, length: number, options: { closed?: boolean; occurredAt?: string; names?: readonly string[] } = {}): EventEnvelope[] {
  const names = options.names ?? SEED_ITEM_NAMES;
  const events: EventEnvelope[] = [];
  for (let version = 1; version <= length; version++) {
    const last = version === length && version > 1 && (options.closed ?? false);
    if (version === 1) events.push(envelope(cartId, version, 'CartOpened', {}, options.occurredAt));
    else if (last) events.push(envelope(cartId, version, 'CartClosed', {}, options.occurredAt));
    else {
      const name = names[(version - 2) % names.length]!;
      events.push({ ...envelope(cartId, version, 'ItemAdded', { sku: skuOfSeedItemName(name), quantity: 1, name }, options.occurredAt), schemaVersion: CURRENT_SCHEMA_VERSION.ItemAdded });
    }
  }
  return events;
}

/** DynamoDB Local's stream writes an empty map as `{}`. */
export function asDynamoDbLocal(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const fix = (value: AttributeValue): AttributeValue => {
    if (value.M !== undefined) return Object.keys(value.M).length === 0 ? ({} as AttributeValue) : { M: asDynamoDbLocal(value.M) };
    if (value.L !== undefined) return { L: value.L.map(fix) };
    return value;
  };
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, fix(value)]));
}

let eventCounter = 0;

/** The event types a history holds between its CartOpened and its CartClosed: every other type of the domain's list. */
const LINE_EVENT_TYPES = CART_EVENT_TYPES.filter((type) => type !== 'CartOpened' && type !== 'CartClosed');

/**
 * A cart history that every event schema accepts: opened, then each other event type in turn (its payload drawn
 * from the type's generator in domain/cart/arbitraries.ts, the same for the same cart and version), so a new event
 * type is in every history long enough to reach it. Its events are at their current schemaVersion.
 */
export function cartHistory(cartId: string, length: number, occurredAt = '2026-01-01T00:00:00.000Z'): EventEnvelope[] {
  const generators = eventArbitraries({ skus: ['SKU-0', 'SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5', 'SKU-6'] });
  const events: EventEnvelope[] = [];
  for (let version = 1; version <= length; version++) {
    const type = version === 1 ? 'CartOpened' : LINE_EVENT_TYPES[(version - 2) % LINE_EVENT_TYPES.length]!;
    const [event] = fc.sample(generators[type] as fc.Arbitrary<CartEvent>, { numRuns: 1, seed: version });
    events.push({ ...envelope(cartId, version, type, event!.data, occurredAt), schemaVersion: CURRENT_SCHEMA_VERSION[type] });
  }
  return events;
}

export function envelope(cartId: string, version: number, type: string, data: Record<string, unknown>, occurredAt = '2026-01-01T00:00:00.000Z'): EventEnvelope {
  eventCounter += 1;
  return { eventId: `${cartId}-e${version}-${eventCounter}`, aggregateType: 'Cart', aggregateId: cartId, version, type, schemaVersion: 1, occurredAt, data };
}
