import { envelopesOfSeedItem, type SeedTableLayout } from '../domain/cdc/seed-events';
import type { EventEnvelope } from '../domain/events';

/** One page of a seed table's Scan segment, items as plain values. */
export interface SeedTablePage {
  readonly items: readonly Readonly<Record<string, unknown>>[];
  /** Where the segment goes on; absent on its last page. */
  readonly cursor?: Record<string, unknown>;
}

/** Reads a seed table by parallel Scan segments. */
export interface SeedTableSource {
  scan(segment: number, totalSegments: number, cursor: Record<string, unknown> | undefined): Promise<SeedTablePage>;
}

/** What became of one event written with "only if that version is not there yet". */
export type EventImport =
  | { readonly outcome: 'imported' }
  | { readonly outcome: 'already-imported' }
  /** The store holds another event (another eventId) at that version: the cart exists here with its own history. */
  | { readonly outcome: 'conflict'; readonly existingEventId: string };

/** Writes one event into the event store unless its version is taken, telling which. */
export interface EventImportTarget {
  importEvent(event: EventEnvelope): Promise<EventImport>;
}

/** Where a Scan segment stands: finished, or to be continued after `cursor` (from its start when absent). */
export type SegmentPosition = { readonly done: true } | { readonly done?: false; readonly cursor?: Record<string, unknown> };

/**
 * Remembers, per Scan segment, how far an import got: a position is saved only once every item before it has
 * been written, so a resumed run skips finished work and redoes at most one page per segment (which the
 * conditional writes make harmless).
 */
export interface ImportCheckpoint {
  position(segment: number): Promise<SegmentPosition>;
  save(segment: number, position: SegmentPosition): Promise<void>;
}

export interface ImportProgress {
  readonly itemsScanned: number;
  readonly segmentsDone: number;
  readonly segments: number;
  readonly eventsImported: number;
  readonly eventsAlreadyImported: number;
  readonly itemsSkipped: number;
}

export interface SkippedItem {
  /** The item's key, as JSON, so that an operator can find it in the seed table. */
  readonly key: string;
  readonly reason: string;
}

export interface ImportSummary extends ImportProgress {
  /** Segments a checkpoint showed finished by an earlier run: not scanned again. */
  readonly segmentsFinishedBefore: number;
  /** Carts that got at least one event in this run. */
  readonly cartsImported: number;
  readonly skipped: readonly SkippedItem[];
  /** Skus that more than one seed item name maps to (see skuOfSeedItemName): one cart line for several names. */
  readonly skuCollisions: readonly { readonly sku: string; readonly names: readonly string[] }[];
}

export interface ImportSeedOptions {
  readonly layout: SeedTableLayout;
  readonly segments: number;
  /** The time given to every imported event: the seed kept none. */
  readonly occurredAt: string;
  /** Items of one page handled at once (their carts' events are written one after the other, in version order). */
  readonly concurrency?: number;
  /** Without one, a rerun scans everything again and counts what is there as already imported. */
  readonly checkpoint?: ImportCheckpoint;
  readonly onProgress?: (progress: ImportProgress) => void;
  readonly onSkipped?: (item: SkippedItem) => void;
}

/**
 * Copies a seed table into the event store: the same event ids and versions, payloads lifted to today's events.
 * Each event is written only if its version is free, so a second run (or a run resumed after a crash) changes
 * nothing that is there and counts it as already imported. A seed item that cannot be read, or whose cart already
 * holds other events here, is reported and skipped; the rest goes on. Anything else (the table unreachable, the
 * SDK's retries spent) stops the run; running it again resumes it.
 */
export async function importSeedTable(source: SeedTableSource, target: EventImportTarget, options: ImportSeedOptions): Promise<ImportSummary> {
  const concurrency = options.concurrency ?? 8;
  const counts = { itemsScanned: 0, segmentsDone: 0, eventsImported: 0, eventsAlreadyImported: 0, itemsSkipped: 0, segmentsResumed: 0 };
  const skipped: SkippedItem[] = [];
  const namesBySku = new Map<string, Set<string>>();
  const cartsWithImports = new Set<string>();
  const progress = (): ImportProgress => ({
    itemsScanned: counts.itemsScanned,
    segmentsDone: counts.segmentsDone,
    segments: options.segments,
    eventsImported: counts.eventsImported,
    eventsAlreadyImported: counts.eventsAlreadyImported,
    itemsSkipped: counts.itemsSkipped,
  });
  const skip = (item: SkippedItem) => {
    counts.itemsSkipped++;
    skipped.push(item);
    options.onSkipped?.(item);
  };

  async function importItem(item: Readonly<Record<string, unknown>>): Promise<void> {
    const read = envelopesOfSeedItem(item, options.layout, options.occurredAt);
    if (!read.ok) return skip({ key: keyOf(item, options.layout), reason: `${read.problem}: ${read.reason}` });
    let imported = 0;
    for (const event of read.envelopes) {
      const result = await target.importEvent(event);
      if (result.outcome === 'conflict') {
        // Writing the rest would splice the seed's history into another one.
        return skip({
          key: keyOf(item, options.layout),
          reason: `conflict: cart ${event.aggregateId} already holds event ${result.existingEventId} at version ${event.version} (the seed's is ${event.eventId})`,
        });
      }
      if (result.outcome === 'imported') {
        imported++;
        counts.eventsImported++;
      } else counts.eventsAlreadyImported++;
      if (event.type === 'ItemAdded' && typeof event.data.name === 'string') {
        const names = namesBySku.get(event.data.sku as string) ?? new Set<string>();
        names.add(event.data.name);
        namesBySku.set(event.data.sku as string, names);
      }
    }
    if (imported > 0) cartsWithImports.add(read.cartId);
  }

  async function runSegment(segment: number): Promise<void> {
    const start: SegmentPosition = (await options.checkpoint?.position(segment)) ?? {};
    if (start.done) counts.segmentsResumed++;
    else {
      let cursor = start.cursor;
      do {
        if (stopping) return;
        const page = await source.scan(segment, options.segments, cursor);
        for (let at = 0; at < page.items.length; at += concurrency) {
          await Promise.all(page.items.slice(at, at + concurrency).map(importItem));
        }
        counts.itemsScanned += page.items.length;
        cursor = page.cursor;
        await options.checkpoint?.save(segment, cursor ? { cursor } : { done: true });
        options.onProgress?.(progress());
      } while (cursor);
    }
    counts.segmentsDone++;
    options.onProgress?.(progress());
  }

  // One segment failing stops the others at their next page, and the run returns only once none is writing.
  let stopping = false;
  const outcomes = await Promise.allSettled(
    Array.from({ length: options.segments }, (_, segment) =>
      runSegment(segment).catch((error: unknown) => {
        stopping = true;
        throw error;
      }),
    ),
  );
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return {
    ...progress(),
    cartsImported: cartsWithImports.size,
    segmentsFinishedBefore: counts.segmentsResumed,
    skipped,
    skuCollisions: [...namesBySku].filter(([, names]) => names.size > 1).map(([sku, names]) => ({ sku, names: [...names].sort() })),
  };
}

function keyOf(item: Readonly<Record<string, unknown>>, layout: SeedTableLayout): string {
  const key = layout === 'aggregate-item' ? { Uuid: item.Uuid } : { AggregateUuid: item.AggregateUuid, Version: item.Version };
  return JSON.stringify(key);
}
