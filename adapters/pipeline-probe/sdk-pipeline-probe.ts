import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { EventStore } from '../../application/event-store';
import type { PipelineProbe, ProbeArchiveObject, ProbeCart, ProbeReplayResult, ProbeStreamRecord } from '../../application/pipeline-verification';
import type { ArchiveObjects } from '../../application/replay-ports';
import { ARCHIVE_EVENTS_PREFIX, archiveHourPrefix, hourFloor } from '../../application/replay-window';
import type { KinesisStreamTail } from '../kinesis/stream-tail';

/**
 * One call to the cart HTTP API: plain locally, SigV4-signed on AWS (adapters/pipeline-probe/signed-http.ts).
 * `retryAfter` is the answer's Retry-After header, in seconds, when it has one.
 */
export type CartApiCall = (method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: unknown; retryAfter?: number }>;

/**
 * How long the probe keeps sending a call again, as docs/api.md asks of a client: after Retry-After (at most
 * MAX_RETRY_WAIT_S) when the API answers 503 or 409 IDEMPOTENT_REQUEST_IN_PROGRESS, a write with the same
 * Idempotency-Key. One transient refusal (a throttled append, a slow cold start) is then not a failed api hop, nor on
 * AWS a point toward the canary's alarm. The budget outlasts the idempotency lock (the API Lambda's 30 s): a lock
 * write that DynamoDB applied and whose answer was lost holds the key IN_PROGRESS until then (a busy run saw five
 * sends over 20 s all answered 409 that way).
 */
export const API_RETRY_BUDGET_MS = 40_000;
const MAX_RETRY_WAIT_S = 5;

export interface SdkPipelineProbeParts {
  readonly where: 'local' | 'aws';
  readonly pollIntervalMs: number;
  readonly pipeDeadLetterQueue?: string;
  readonly api: CartApiCall;
  /** API_RETRY_BUDGET_MS unless a test says otherwise. */
  readonly apiRetryBudgetMs?: number;
  readonly store: EventStore;
  readonly tail: KinesisStreamTail;
  /** Where a stream read starts: AT_TIMESTAMP on AWS; TRIM_HORIZON on kinesalite, which does not answer AT_TIMESTAMP. */
  readonly streamStart: 'AT_TIMESTAMP' | 'TRIM_HORIZON';
  readonly archive: Pick<ArchiveObjects, 'list' | 'read'>;
  readonly sfn: SFNClient;
  readonly replayStateMachineArn: string;
  /** The event log's lines of a cart: a log file locally, the event log's CloudWatch Logs group on AWS. */
  readonly eventLogLines: PipelineProbe['eventLogLines'];
  /** Pending letters per queue: the local dead-letter file, or the dead-letter queues' counts on AWS. */
  readonly deadLetterCounts: PipelineProbe['deadLetterCounts'];
}

/**
 * Archive objects are looked for from this long before the probe: an object is keyed by the arrival hour of its
 * oldest record (Firehose), which may be a record buffered before the probe's.
 */
const ARCHIVE_LOOKBACK_MS = 15 * 60_000;

/** The probe over the SDK clients the project already uses; what differs between local and AWS comes in as parts. */
export class SdkPipelineProbe implements PipelineProbe {
  readonly where: 'local' | 'aws';
  readonly pollIntervalMs: number;
  readonly pipeDeadLetterQueue?: string;
  /** Archive objects never change once written: each is read once. */
  private readonly readObjects = new Map<string, string[]>();

  constructor(private readonly parts: SdkPipelineProbeParts) {
    this.where = parts.where;
    this.pollIntervalMs = parts.pollIntervalMs;
    if (parts.pipeDeadLetterQueue) this.pipeDeadLetterQueue = parts.pipeDeadLetterQueue;
  }

  async openProbeCart(): Promise<{ cartId: string; version: number }> {
    return (await this.call('POST', '/carts', { probe: true }, 201)) as { cartId: string; version: number };
  }

  async addItem(cartId: string, sku: string, quantity: number): Promise<{ version: number }> {
    return (await this.call('POST', `/carts/${cartId}/items`, { sku, quantity }, 200)) as { version: number };
  }

  async readCart(cartId: string): Promise<ProbeCart> {
    return (await this.call('GET', `/carts/${cartId}`, undefined, 200)) as ProbeCart;
  }

  async storedEvents(cartId: string) {
    return (await this.parts.store.readStream(cartId)).events;
  }

  async streamRecords(cartId: string, since: Date): Promise<ProbeStreamRecord[]> {
    const views = await this.parts.tail.recordsSince(since, this.parts.streamStart);
    // Keyed by the cart, or carrying its events under another key (a wrong PartitionKey path): both are the probe's.
    return views.filter((view) => view.partitionKey === cartId || view.envelope?.aggregateId === cartId || view.raw?.includes(cartId)).map((view) => ({ partitionKey: view.partitionKey, ...(view.envelope ? { envelope: view.envelope } : {}) }));
  }

  eventLogLines(cartId: string, since: Date) {
    return this.parts.eventLogLines(cartId, since);
  }

  async readModelVersion(cartId: string): Promise<number | undefined> {
    const { status, body } = await this.parts.api('GET', `/read/carts/${cartId}`);
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`GET /read/carts/${cartId} answered ${status}: ${JSON.stringify(body)}`);
    return (body as { version: number }).version;
  }

  async archivedObjects(cartId: string, since: Date): Promise<ProbeArchiveObject[]> {
    const found: ProbeArchiveObject[] = [];
    for (let hour = hourFloor(since.getTime() - ARCHIVE_LOOKBACK_MS); hour <= Date.now(); hour += 3_600_000) {
      for await (const object of this.parts.archive.list(archiveHourPrefix(hour))) {
        if (!object.key.startsWith(ARCHIVE_EVENTS_PREFIX)) continue;
        let lines = this.readObjects.get(object.key);
        if (!lines) {
          lines = ((await this.parts.archive.read(object.key)) ?? '').split('\n');
          this.readObjects.set(object.key, lines);
        }
        const eventIds = lines.filter((line) => line.includes(cartId)).flatMap((line) => eventIdOf(line, cartId));
        if (eventIds.length > 0) found.push({ key: object.key, eventIds });
      }
    }
    return found;
  }

  async dryRunReplay(window: { from: string; to: string }, deadline: number): Promise<ProbeReplayResult> {
    const name = `verify-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const { executionArn } = await this.parts.sfn.send(
      new StartExecutionCommand({ stateMachineArn: this.parts.replayStateMachineArn, name, input: JSON.stringify({ ...window, target: 'projections', dryRun: true }) }),
    );
    for (;;) {
      const execution = await this.parts.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING') {
        const output = execution.output ? (JSON.parse(execution.output) as { eventsRead?: number }) : {};
        return { status: execution.status ?? 'UNKNOWN', executionName: name, ...(output.eventsRead === undefined ? {} : { eventsRead: output.eventsRead }), ...(execution.error ? { error: `${execution.error}${execution.cause ? `: ${execution.cause.slice(0, 300)}` : ''}` } : {}) };
      }
      if (Date.now() + this.pollIntervalMs > deadline) return { status: 'RUNNING', executionName: name, error: 'still running at the end of --timeout' };
      await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
    }
  }

  deadLetterCounts() {
    return this.parts.deadLetterCounts();
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, expected: number): Promise<unknown> {
    const headers = method === 'POST' ? { 'idempotency-key': randomUUID() } : undefined;
    const giveUpAt = Date.now() + (this.parts.apiRetryBudgetMs ?? API_RETRY_BUDGET_MS);
    const refusals: number[] = [];
    for (;;) {
      const answer = await this.parts.api(method, path, body, headers);
      const code = (answer.body as { error?: { code?: unknown } } | undefined)?.error?.code;
      const transient = answer.status === 503 || (answer.status === 409 && code === 'IDEMPOTENT_REQUEST_IN_PROGRESS');
      const waitMs = Math.min(answer.retryAfter ?? 1, MAX_RETRY_WAIT_S) * 1_000;
      if (!transient || Date.now() + waitMs > giveUpAt) {
        if (answer.status === expected) return answer.body;
        const before = refusals.length > 0 ? ` (after ${refusals.length} transient refusal(s): ${[...new Set(refusals)].join(', ')})` : '';
        throw new Error(`${method} ${path} answered ${answer.status}${before}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
      refusals.push(answer.status);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** The Retry-After of an answer, in seconds (the API sends whole seconds), when it has one. */
export function retryAfterOf(headers: Headers): { retryAfter?: number } {
  const seconds = Number(headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? { retryAfter: seconds } : {};
}

function eventIdOf(line: string, cartId: string): string[] {
  try {
    const parsed = JSON.parse(line) as { aggregateId?: unknown; eventId?: unknown };
    return parsed.aggregateId === cartId && typeof parsed.eventId === 'string' ? [parsed.eventId] : [];
  } catch {
    return [];
  }
}
