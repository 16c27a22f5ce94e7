import type { EventEnvelope } from '../domain/events';
import { PROBE_SKU, type PipelineProbe } from './pipeline-verification';

/** Fakes for tests of verifyPipeline and of what runs it (the canary). */
export const CART = '00000000-1111-4222-8333-444444444444';
export const START = Date.UTC(2026, 11, 5, 8, 30);

export function envelope(version: number, type: string, data: Record<string, unknown> = {}): EventEnvelope {
  return { eventId: `e${version}`, aggregateType: 'Cart', aggregateId: CART, version, type, schemaVersion: 1, occurredAt: '2026-12-05T08:30:00.000Z', data };
}

export const STORED = [envelope(1, 'CartOpened'), envelope(2, 'ItemAdded', { sku: PROBE_SKU, quantity: 2 })];

/** A pipeline where every hop works; each test breaks one thing. */
export function healthyProbe(overrides: Partial<PipelineProbe> = {}): PipelineProbe {
  return {
    where: 'local',
    pollIntervalMs: 100,
    openProbeCart: async () => ({ cartId: CART, version: 1 }),
    addItem: async () => ({ version: 2 }),
    readCart: async () => ({ cartId: CART, version: 2, items: [{ sku: PROBE_SKU, quantity: 2 }] }),
    storedEvents: async () => STORED,
    // At least once: a duplicate is fine.
    streamRecords: async () => [...STORED, STORED[0]!].map((event) => ({ partitionKey: CART, envelope: event })),
    eventLogLines: async () => STORED.map(({ eventId, version }) => ({ eventId, version })),
    readModelVersion: async () => 2,
    archivedObjects: async () => [{ key: 'events/2026/12/05/08/cart-events-1.jsonl', eventIds: ['e1', 'e2'] }],
    dryRunReplay: async () => ({ status: 'SUCCEEDED', executionName: 'verify-1', eventsRead: 5 }),
    deadLetterCounts: async () => ({ pipe: 1 }),
    ...overrides,
  };
}

/** A fake clock: sleeping moves time on at once, so waiting hops time out without real waiting. */
export function fakeTime() {
  let now = START;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

