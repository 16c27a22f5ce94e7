import type { EventEnvelope } from '../domain/events';
import { arrivalHourOf } from './replay-window';

/**
 * `cdc-cart verify` and the canary: one probe cart (domain/cart/probe-carts.ts) sent through every hop of the
 * pipeline, each hop checked in this order. The names are a public contract (docs/cli.md#verify, the canary's
 * metrics): keep them.
 */
export const PIPELINE_HOPS = ['api', 'event-store', 'kinesis', 'event-log', 'projections', 'archive', 'replay', 'dead-letters'] as const;
export type PipelineHop = (typeof PIPELINE_HOPS)[number];

export interface HopResult {
  readonly hop: PipelineHop;
  readonly ok: boolean;
  /** How long the hop's check took, waiting included (hops run one after the other). */
  readonly ms: number;
  readonly detail: string;
  /** For a FAIL: where to look first, from the runbook. */
  readonly likelyCauses?: readonly string[];
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly where: 'local' | 'aws';
  readonly cartId?: string;
  readonly startedAt: string;
  readonly ms: number;
  readonly hops: readonly HopResult[];
}

export interface ProbeCart {
  readonly cartId: string;
  readonly version: number;
  readonly items: readonly { sku: string; quantity: number }[];
}

/** A record of the event stream that carries the probe's cart id somewhere (its key or its data). */
export interface ProbeStreamRecord {
  readonly partitionKey: string;
  /** The data as an event envelope; undefined when it is not one. */
  readonly envelope?: EventEnvelope;
}

export interface ProbeArchiveObject {
  readonly key: string;
  /** The eventIds of the probe's cart that the object holds. */
  readonly eventIds: readonly string[];
}

export interface ProbeReplayResult {
  readonly status: string;
  readonly executionName?: string;
  /** Replayable events the dry run read in its window (every cart's, the probe's among them). */
  readonly eventsRead?: number;
  readonly error?: string;
}

/**
 * What the verification needs from a running pipeline, locally (local/verify) or on AWS (cli/aws): the same
 * questions, asked of the emulators or of the deployed resources.
 */
export interface PipelineProbe {
  readonly where: 'local' | 'aws';
  /** How often a hop that waits (stream, consumers, archive) looks again. */
  readonly pollIntervalMs: number;
  /**
   * The Pipe's queue among deadLetterCounts' (AWS: cdc-pipe; locally: pipe). A letter there during the run means
   * the Pipe gave up on a batch: the kinesis hop fails at once instead of waiting out --timeout.
   */
  readonly pipeDeadLetterQueue?: string;
  /** Through the cart API: POST /carts {"probe": true}. */
  openProbeCart(): Promise<{ cartId: string; version: number }>;
  addItem(cartId: string, sku: string, quantity: number): Promise<{ version: number }>;
  readCart(cartId: string): Promise<ProbeCart>;
  storedEvents(cartId: string): Promise<readonly EventEnvelope[]>;
  /** Stream records of this cart that arrived since (a little before) `since`. */
  streamRecords(cartId: string, since: Date): Promise<readonly ProbeStreamRecord[]>;
  /** The event log's lines for this cart, in the order written. */
  eventLogLines(cartId: string, since: Date): Promise<readonly { eventId: string; version: number }[]>;
  /** The cart-summary read model's version for the cart, through the read API. */
  readModelVersion(cartId: string): Promise<number | undefined>;
  /** Archive objects that arrived since `since` and hold events of this cart. */
  archivedObjects(cartId: string, since: Date): Promise<readonly ProbeArchiveObject[]>;
  /** A dry-run replay (target projections) of the window, through the Step Functions API, until it ends. */
  dryRunReplay(window: { from: string; to: string }, deadline: number): Promise<ProbeReplayResult>;
  /** Pending dead letters per queue (AWS: each dead-letter queue's approximate count; locally: per source). */
  deadLetterCounts(): Promise<Readonly<Record<string, number>>>;
}

export interface VerifyOptions {
  /**
   * How long the hops after `api` may wait for the pipeline, counted from when the api hop ends (--timeout). The api
   * hop is bounded by the probe itself (its retry budget, docs/api.md's advice to clients): an API that is slow to
   * answer, or holds a key's idempotency lock after a lost answer, must not spend the time the pipeline is given.
   */
  readonly timeoutMs: number;
  /** Epoch ms that no hop waits past, whatever `timeoutMs` leaves: the canary Lambda's own timeout. */
  readonly endBy?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called as each hop ends, for a live printout. */
  readonly onHop?: (result: HopResult) => void;
}

export const PROBE_SKU = 'verify-probe';
const PROBE_QUANTITY = 2;
const HOUR_MS = 3_600_000;

/** Where to look when a hop fails: the runbook's rows (docs/operating-on-aws.md, docs/troubleshooting.md). */
export const LIKELY_CAUSES: Readonly<Record<'local' | 'aws', Readonly<Record<PipelineHop, readonly string[]>>>> = {
  aws: {
    api: ['the API answered an error or refused the signature: the caller needs execute-api:Invoke on the stage; cartApi logs', 'alarm api-5xx: cartApi logs, DynamoDB throttling'],
    'event-store': ['the event store table (EventStoreTableName output) and cartApi logs: an append that was answered but not stored is a bug'],
    kinesis: ["the Pipe's dead-letter queue (alarm dlq-cdc-pipe)", "the Pipe's log group CdcPipe/Logs (ERROR level)", "the Pipe target's PartitionKey path ($.aggregateId) evaluated on the wrong payload", 'enrichment-errors: the enrichment Lambda logs'],
    'event-log': ["the event log's Lambda errors and its dead-letter queue (alarm dlq-consumer-eventLog)", 'alarm iterator-age-eventLog: the consumer is behind'],
    projections: ["the projections' Lambda errors and its dead-letter queue (alarm dlq-consumer-projections)", 'alarm iterator-age-projections', 'a rebuild that switched the generation pointer: readApi logs'],
    archive: ["the delivery stream's errors/ prefix in the archive bucket", 'the Firehose log group Archive/FirehoseLogs', 'alarm archive-freshness; a --timeout shorter than the buffer interval (60 s)'],
    replay: ['the replay state machine execution (alarm replay-failed): its failed state and cause', 'the replayObject Lambda logs'],
    'dead-letters': ['read the queue that grew: aws sqs receive-message --queue-url <url>, then the runbook row dlq-*'],
  },
  local: {
    api: ['the api component (npm start output, .local/data/logs/api.log)', 'a stack on other ports: API_PORT'],
    'event-store': ['DynamoDB Local (logs/dynamodb.log) and the api component'],
    kinesis: ['the pipe component (logs/pipe.log) and its dead letters (cdc-cart dead-letters)', 'kinesalite (logs/kinesis.log)'],
    'event-log': ['the consumers component (logs/consumers.log) and consumer dead letters'],
    projections: ['the consumers component (logs/consumers.log): projections errors, consumer dead letters'],
    archive: ['the archiver component (logs/archiver.log): stopped, frozen or failing to write to s3rver', 's3rver (logs/s3.log)'],
    replay: ['the stepfunctions component (logs/stepfunctions.log); the console\'s replay view shows the execution'],
    'dead-letters': ['cdc-cart dead-letters lists the new letters with their reasons (docs/troubleshooting.md#a-poison-event-in-the-dead-letters)'],
  },
};

/** Runs every hop once, in order, within the budget; never throws (a failing call is a FAIL of its hop). */
export async function verifyPipeline(probe: PipelineProbe, options: VerifyOptions): Promise<VerificationReport> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  /** What the waiting hops may not pass, counted from `from` (VerifyOptions.timeoutMs and endBy). */
  const deadlineFrom = (from: number) => Math.min(from + options.timeoutMs, options.endBy ?? Number.POSITIVE_INFINITY);
  /** Set again when the api hop ends: nothing waits before that. */
  let deadline = deadlineFrom(started);
  // Records and objects are looked for from a little before the start: clocks of the emulators or AWS may differ.
  const since = new Date(started - 60_000);
  const hops: HopResult[] = [];
  const state: { cartId?: string; events?: readonly EventEnvelope[]; archiveKeys?: readonly string[]; lettersBefore?: Readonly<Record<string, number>>; lettersError?: string } = {};

  try {
    state.lettersBefore = await probe.deadLetterCounts();
  } catch (error) {
    state.lettersError = messageOf(error);
  }

  /** Polls `check` until it says done or the deadline passes; its last word is the detail. */
  async function waitFor(check: () => Promise<{ done: boolean; detail: string; failed?: boolean }>): Promise<{ ok: boolean; detail: string }> {
    let last = 'nothing seen yet';
    for (;;) {
      try {
        const result = await check();
        if (result.done) return { ok: true, detail: result.detail };
        last = result.detail;
        if (result.failed) return { ok: false, detail: last };
      } catch (error) {
        last = messageOf(error);
      }
      if (now() + probe.pollIntervalMs > deadline) return { ok: false, detail: `not within --timeout: ${last}` };
      await sleep(probe.pollIntervalMs);
    }
  }

  async function hop(name: PipelineHop, run: () => Promise<{ ok: boolean; detail: string }>): Promise<void> {
    const hopStarted = now();
    let result: { ok: boolean; detail: string };
    try {
      result = await run();
    } catch (error) {
      result = { ok: false, detail: messageOf(error) };
    }
    const hopResult: HopResult = { hop: name, ok: result.ok, ms: now() - hopStarted, detail: result.detail, ...(result.ok ? {} : { likelyCauses: LIKELY_CAUSES[probe.where][name] }) };
    hops.push(hopResult);
    options.onHop?.(hopResult);
  }

  const needs = (what: string) => ({ ok: false, detail: `not checked: needs the ${what} hop` });

  await hop('api', async () => {
    const opened = await probe.openProbeCart();
    state.cartId = opened.cartId;
    const added = await probe.addItem(opened.cartId, PROBE_SKU, PROBE_QUANTITY);
    const cart = await probe.readCart(opened.cartId);
    const line = cart.items.find((item) => item.sku === PROBE_SKU);
    if (cart.version !== added.version || line?.quantity !== PROBE_QUANTITY) {
      return { ok: false, detail: `cart ${opened.cartId} read back at version ${cart.version} with ${JSON.stringify(cart.items)}; expected version ${added.version} with ${PROBE_SKU} x${PROBE_QUANTITY}` };
    }
    return { ok: true, detail: `probe cart ${opened.cartId} opened, ${PROBE_SKU} x${PROBE_QUANTITY} added, read back at version ${cart.version}` };
  });
  deadline = deadlineFrom(now());

  await hop('event-store', async () => {
    if (!state.cartId) return needs('api');
    const events = await probe.storedEvents(state.cartId);
    const versions = events.map((event) => event.version);
    const expected = versions.map((_, index) => index + 1);
    if (events.length === 0 || versions.join() !== expected.join()) return { ok: false, detail: `stored versions [${versions.join(', ')}], expected 1..${Math.max(events.length, 1)} without gaps` };
    state.events = events;
    return { ok: true, detail: `${events.length} events at versions 1..${events.length}` };
  });

  const cartId = state.cartId;
  const events = state.events ?? [];
  const eventIds = new Set(events.map((event) => event.eventId));

  await hop('kinesis', async () => {
    if (!cartId || events.length === 0) return needs('event-store');
    const pipeQueue = probe.pipeDeadLetterQueue;
    /** Batches the Pipe gave up on since the run started (its retries spent, e.g. every put refused). */
    const pipeGaveUp = async () => (pipeQueue && state.lettersBefore ? ((await probe.deadLetterCounts())[pipeQueue] ?? 0) - (state.lettersBefore[pipeQueue] ?? 0) : 0);
    const gaveUpDetail = (onStream: string, letters: number) => `${onStream}, and the Pipe sent ${letters} batch(es) to its dead-letter queue (${pipeQueue}) meanwhile`;
    return waitFor(async () => {
      const letters = await pipeGaveUp();
      let records: readonly ProbeStreamRecord[];
      try {
        records = await probe.streamRecords(cartId, since);
      } catch (error) {
        if (letters > 0) return { done: false, failed: true, detail: gaveUpDetail(`the stream could not be read (${messageOf(error)})`, letters) };
        throw error;
      }
      const wrongKey = records.find((record) => record.partitionKey !== cartId);
      if (wrongKey) return { done: false, failed: true, detail: `a record of the probe has PartitionKey "${wrongKey.partitionKey}", expected the cart id` };
      const notEnvelope = records.find((record) => !record.envelope);
      if (notEnvelope) return { done: false, failed: true, detail: 'a record keyed by the probe cart does not hold an event envelope' };
      const changed = records.find((record) => record.envelope && eventIds.has(record.envelope.eventId) && !sameEvent(record.envelope, events.find((event) => event.eventId === record.envelope!.eventId)!));
      if (changed) return { done: false, failed: true, detail: `the record of event ${changed.envelope!.eventId} differs from the stored event` };
      const seen = new Set(records.map((record) => record.envelope!.eventId).filter((id) => eventIds.has(id)));
      const duplicates = records.length - seen.size;
      const onStream = `${seen.size}/${eventIds.size} events as records keyed by the cart id`;
      if (seen.size < eventIds.size && letters > 0) return { done: false, failed: true, detail: gaveUpDetail(onStream, letters) };
      return {
        done: seen.size === eventIds.size,
        detail: `${onStream}${duplicates > 0 ? ` (${duplicates} duplicate record(s): at-least-once delivery)` : ''}`,
      };
    });
  });

  await hop('event-log', async () => {
    if (!cartId || events.length === 0) return needs('event-store');
    return waitFor(async () => {
      const lines = await probe.eventLogLines(cartId, since);
      const ids = lines.map((line) => line.eventId);
      if (new Set(ids).size !== ids.length) return { done: false, failed: true, detail: 'an event of the probe was logged twice' };
      const versions = lines.map((line) => line.version);
      if (versions.some((version, index) => index > 0 && version <= versions[index - 1]!)) return { done: false, failed: true, detail: `logged out of version order: [${versions.join(', ')}]` };
      const logged = ids.filter((id) => eventIds.has(id)).length;
      return { done: logged === eventIds.size, detail: `${logged}/${eventIds.size} events logged once each, in version order` };
    });
  });

  await hop('projections', async () => {
    if (!cartId || events.length === 0) return needs('event-store');
    const version = events.length;
    return waitFor(async () => {
      const readVersion = await probe.readModelVersion(cartId);
      return { done: readVersion === version, detail: readVersion === undefined ? 'the read API has no row for the probe cart' : `the read API answers the cart at version ${readVersion} (stored: ${version})` };
    });
  });

  await hop('archive', async () => {
    if (!cartId || events.length === 0) return needs('event-store');
    return waitFor(async () => {
      const objects = await probe.archivedObjects(cartId, since);
      const archived = new Set(objects.flatMap((object) => object.eventIds).filter((id) => eventIds.has(id)));
      state.archiveKeys = objects.map((object) => object.key);
      return {
        done: archived.size === eventIds.size,
        detail: `${archived.size}/${eventIds.size} events in ${objects.length === 0 ? 'no object yet' : objects.map((object) => object.key).join(', ')}`,
      };
    });
  });

  await hop('replay', async () => {
    const keys = state.archiveKeys ?? [];
    if (hops.find((result) => result.hop === 'archive')?.ok !== true || keys.length === 0) return needs('archive');
    const hours = keys.map(arrivalHourOf).filter((hour): hour is number => hour !== undefined);
    if (hours.length === 0) return { ok: false, detail: `archive keys outside the events/YYYY/MM/DD/HH/ layout: ${keys.join(', ')}` };
    const window = { from: new Date(Math.min(...hours)).toISOString(), to: new Date(Math.max(...hours) + HOUR_MS - 1).toISOString() };
    const result = await probe.dryRunReplay(window, deadline);
    const what = `dry-run replay ${result.executionName ?? ''} of ${window.from}..${window.to}`.replace('  ', ' ');
    if (result.status !== 'SUCCEEDED') return { ok: false, detail: `${what} ended ${result.status}${result.error ? `: ${result.error}` : ''}` };
    if ((result.eventsRead ?? 0) < events.length) return { ok: false, detail: `${what} read ${result.eventsRead ?? 0} event(s), fewer than the probe's ${events.length}` };
    return { ok: true, detail: `${what} SUCCEEDED, ${result.eventsRead} event(s) read (the probe's ${events.length} among them)` };
  });

  await hop('dead-letters', async () => {
    if (!state.lettersBefore) return { ok: false, detail: `could not count the dead letters at the start: ${state.lettersError}` };
    const after = await probe.deadLetterCounts();
    const grown = Object.entries(after)
      .map(([queue, count]) => [queue, count - (state.lettersBefore![queue] ?? 0)] as const)
      .filter(([, added]) => added > 0);
    if (grown.length > 0) return { ok: false, detail: `new dead letter(s) meanwhile: ${grown.map(([queue, added]) => `${added} in ${queue}`).join(', ')}` };
    const pending = Object.values(after).reduce((sum, count) => sum + count, 0);
    return { ok: true, detail: `no new letter during the run${pending > 0 ? ` (${pending} older one(s) pending)` : ''}` };
  });

  return { ok: hops.every((result) => result.ok), where: probe.where, ...(cartId ? { cartId } : {}), startedAt: new Date(started).toISOString(), ms: now() - started, hops };
}

/**
 * The line `cdc-cart verify` prints per hop: `ok|FAIL <hop> <ms> <detail>`, then a FAIL's likely causes (also for
 * the extra check `alarm-delivery` of --alarm-check).
 */
export function hopLine(result: Omit<HopResult, 'hop'> & { readonly hop: PipelineHop | 'alarm-delivery' }): string {
  const line = `${result.ok ? 'ok' : 'FAIL'} ${result.hop} ${result.ms} ${result.detail}`;
  return result.ok ? line : [line, ...(result.likelyCauses ?? []).map((cause) => `       likely: ${cause}`)].join('\n');
}

function sameEvent(a: EventEnvelope, b: EventEnvelope): boolean {
  return a.eventId === b.eventId && a.aggregateId === b.aggregateId && a.version === b.version && a.type === b.type && JSON.stringify(sortKeys(a.data)) === JSON.stringify(sortKeys(b.data));
}

function sortKeys(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
