import './polyfill';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadHandler, lambdaContext, type AnyHandler } from '../lambda/invoke';
import type { LambdaName } from '../../lambdas/registry';
import { childExecutionArn, executionArn, mapRunArn } from './arns';
import { REPLAY_RESULTS } from '../../statemachines/state-machines';
import { REPLAY_REJECTS_EXPIRE_AFTER_DAYS, REPLAY_REJECTS_PREFIX } from '../../application/replay-lines';
import { evaluate, type CompiledStateMachine, type DistributedMapSpec, type TaskBinding } from './compile';
import { expireOldResults } from './result-expiry';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEntry {
  readonly timestamp: number;
  readonly type: string;
  readonly stateName?: string;
  readonly detail?: Json;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly startDate: number;
  stopDate?: number;
  readonly input: string;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEntry[];
}

export interface MapRunCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
  resultsWritten: number;
}

/** What DescribeMapRun reports: the Distributed Map's progress, which the CLI shows as objects done of total. */
export interface MapRunRecord {
  readonly mapRunArn: string;
  readonly executionArn: string;
  readonly stateName: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly startDate: number;
  stopDate?: number;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
  readonly counts: MapRunCounts;
}

export class LocalStatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const MAX_HISTORY = 2_000;

/**
 * Runs executions of the compiled state machines, in this process, and keeps their records: in memory while
 * the endpoint runs, and in `<data dir>/stepfunctions/executions.json` when an execution ends, so a restarted
 * endpoint still describes past executions. An execution that was running when the endpoint stopped is
 * recorded as FAILED (States.Runtime): the library cannot resume one half-way.
 */
export class LocalStepFunctions {
  readonly executions = new Map<string, ExecutionRecord>();
  readonly mapRuns = new Map<string, MapRunRecord>();
  private readonly running = new Map<string, { abort: () => void; controller: AbortController }>();
  private readonly handlers = new Map<LambdaName, AnyHandler>();
  private readonly file: string;

  constructor(
    readonly machines: ReadonlyMap<string, CompiledStateMachine>,
    private readonly s3: S3Client,
    dataDir: string,
    /** How a Task's handler is obtained: the registered one by default; tests wrap it to inject a fault. */
    private readonly handlerOf: (lambda: LambdaName, load: () => AnyHandler) => AnyHandler = (_, load) => load(),
  ) {
    const directory = join(dataDir, 'stepfunctions');
    mkdirSync(directory, { recursive: true });
    this.file = join(directory, 'executions.json');
    this.load();
  }

  machineByArn(arn: string): CompiledStateMachine | undefined {
    return [...this.machines.values()].find((machine) => machine.arn === arn);
  }

  start(machine: CompiledStateMachine, name: string, inputText: string): ExecutionRecord {
    const record: ExecutionRecord = {
      executionArn: executionArn(machine.name, name),
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input: inputText,
      history: [],
    };
    this.executions.set(record.executionArn, record);
    const controller = new AbortController();
    const run = machine.machine.run(JSON.parse(inputText), {
      overrides: { taskResourceLocalHandlers: this.localHandlers(machine, record, controller.signal) },
      context: {
        Execution: { Id: record.executionArn, Name: name, RoleArn: 'arn:aws:iam::000000000000:role/local-stepfunctions' },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    this.running.set(record.executionArn, { abort: run.abort, controller });
    void this.recordHistory(record, run.eventLogs);
    run.result.then(
      (output) => this.finish(record, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (error: Error) => {
        if (error.name === 'ExecutionAbortedError') return this.finish(record, { status: 'ABORTED' });
        if (error.name === 'ExecutionTimeoutError') return this.finish(record, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution timed out' });
        const cause = (error as { cause?: Error }).cause ?? error;
        this.finish(record, { status: 'FAILED', error: cause.name || 'States.Runtime', cause: cause.message });
      },
    );
    return record;
  }

  stop(record: ExecutionRecord, error?: string, cause?: string): void {
    const running = this.running.get(record.executionArn);
    if (!running) return;
    running.controller.abort();
    running.abort();
    this.finish(record, { status: 'ABORTED', ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
  }

  /** Stops every running execution (the endpoint is shutting down), recording them as aborted. */
  stopAll(): void {
    for (const arn of [...this.running.keys()]) {
      const record = this.executions.get(arn);
      if (record) this.stop(record, 'States.Runtime', 'the local Step Functions endpoint stopped during the execution');
    }
  }

  private finish(record: ExecutionRecord, end: Partial<ExecutionRecord> & { status: ExecutionStatus }): void {
    if (record.status !== 'RUNNING') return;
    Object.assign(record, end, { stopDate: Date.now() });
    this.running.delete(record.executionArn);
    for (const run of this.mapRuns.values()) {
      if (run.executionArn === record.executionArn && run.status === 'RUNNING') Object.assign(run, { status: 'ABORTED', stopDate: Date.now() });
    }
    this.save();
  }

  private async recordHistory(record: ExecutionRecord, events: AsyncGenerator<Json>): Promise<void> {
    for await (const event of events) {
      if (record.history.length >= MAX_HISTORY) continue;
      const type = event.type === 'StateEntered' || event.type === 'StateExited' ? `${event.state.type}${event.type}` : event.type;
      record.history.push({
        timestamp: event.timestamp,
        type,
        ...(event.state?.name ? { stateName: event.state.name } : {}),
        detail: {
          ...(event.input !== undefined ? { input: event.input } : {}),
          // A state's input, as AWS's stateEnteredEventDetails carry it (the CLI reads a rebuild's wait from it).
          ...(event.type === 'StateEntered' && event.state?.input !== undefined ? { input: event.state.input } : {}),
          ...(event.output !== undefined ? { output: event.output } : {}),
          ...(event.state?.output !== undefined ? { output: event.state.output } : {}),
          ...(event.Error !== undefined ? { error: event.Error, cause: event.Cause } : {}),
        },
      });
    }
  }

  /** Handlers for every bound state of the machine, for one execution. */
  private localHandlers(machine: CompiledStateMachine, record: ExecutionRecord, signal: AbortSignal): Record<string, (input: Json) => Promise<Json>> {
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const binding of machine.bindings.values()) {
      handlers[binding.stateName] =
        binding.kind === 'task'
          ? (input) => this.invokeTask(binding, input)
          : (input) => this.runDistributedMap(binding, input, machine, record, handlers, signal);
    }
    return handlers;
  }

  /**
   * Calls the registered handler as the Lambda service would. A thrown error keeps its name (Retry and Catch
   * match on it) and its cause is the JSON document AWS gives a Lambda error: {errorType, errorMessage, trace}.
   */
  private async invokeTask(binding: TaskBinding, input: Json): Promise<Json> {
    let handler = this.handlers.get(binding.lambda);
    if (!handler) this.handlers.set(binding.lambda, (handler = this.handlerOf(binding.lambda, () => loadHandler(binding.lambda))));
    const event = binding.style === 'invoke' ? input?.Payload : input;
    let result: Json;
    try {
      result = await handler(event, lambdaContext(binding.lambda, binding.timeoutMs));
    } catch (error) {
      const failure = error as Error;
      const name = failure?.name && failure.name !== 'Error' ? failure.name : 'Error';
      throw new LocalStatesError(name, JSON.stringify({ errorType: name, errorMessage: failure?.message ?? String(error), trace: failure?.stack?.split('\n') ?? [] }));
    }
    // lambda:invoke wraps the function's result as AWS does; a Task on the function ARN gets the result itself.
    return binding.style === 'invoke' ? { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200 } : (result ?? null);
  }

  /**
   * A Distributed Map, as Step Functions runs one: items from the ItemReader (S3 listing) or ItemsPath, one
   * child execution per item (ItemSelector with $$.Map.Item), MaxConcurrency at a time, a Map Run record with
   * live counts, tolerated failures (percentage and count; exceeding them fails the Map with
   * States.ExceedToleratedFailureThreshold), and the ResultWriter export to S3 in AWS's layout.
   */
  private async runDistributedMap(
    spec: DistributedMapSpec,
    input: Json,
    machine: CompiledStateMachine,
    execution: ExecutionRecord,
    handlers: Record<string, (input: Json) => Promise<Json>>,
    signal: AbortSignal,
  ): Promise<Json> {
    const items = spec.readerParameters ? await this.readItems(spec, input) : await this.itemsFromPath(spec, input);
    const mapRunId = randomUUID();
    const run: MapRunRecord = {
      mapRunArn: mapRunArn(machine.name, execution.name, mapRunId),
      executionArn: execution.executionArn,
      stateName: spec.stateName,
      status: 'RUNNING',
      startDate: Date.now(),
      maxConcurrency: spec.maxConcurrency,
      toleratedFailurePercentage: spec.toleratedFailurePercentage,
      toleratedFailureCount: spec.toleratedFailureCount,
      counts: { pending: items.length, running: 0, succeeded: 0, failed: 0, timedOut: 0, aborted: 0, total: items.length, resultsWritten: 0 },
    };
    this.mapRuns.set(run.mapRunArn, run);

    const results: ({ ok: true; record: Json; output: Json } | { ok: false; record: Json; error: string; cause: string })[] = new Array(items.length);
    const aborts = new Set<() => void>();
    let next = 0;
    let exceeded = false;
    const tooManyFailures = () =>
      run.counts.failed > spec.toleratedFailureCount &&
      (run.counts.failed * 100) / Math.max(1, run.counts.total) > spec.toleratedFailurePercentage;

    const worker = async () => {
      while (next < items.length && !exceeded && !signal.aborted) {
        const index = next++;
        run.counts.pending--;
        run.counts.running++;
        const childName = `${index}`;
        const childInput = spec.itemSelector
          ? await evaluate(spec.itemSelector, input, { Map: { Item: { Index: index, Value: items[index] } } })
          : items[index];
        const record = {
          ExecutionArn: childExecutionArn(machine.name, execution.name, mapRunId, childName),
          Input: JSON.stringify(childInput),
          InputDetails: { Included: true },
          Name: childName,
          StartDate: new Date().toISOString(),
          StateMachineArn: run.mapRunArn,
        };
        const child = spec.child.run(childInput, {
          overrides: { taskResourceLocalHandlers: handlers },
          context: { Execution: { Id: record.ExecutionArn, Name: childName } },
        });
        aborts.add(child.abort);
        try {
          const output = await child.result;
          results[index] = { ok: true, record, output };
          run.counts.succeeded++;
        } catch (error) {
          const cause = ((error as { cause?: Error }).cause ?? error) as Error;
          results[index] = { ok: false, record, error: cause.name, cause: cause.message };
          run.counts.failed++;
          if (tooManyFailures()) exceeded = true;
        } finally {
          aborts.delete(child.abort);
          run.counts.running--;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.maxConcurrency, items.length)) }, worker));
    if (signal.aborted || exceeded) {
      for (const abort of aborts) abort();
      run.counts.aborted += run.counts.pending;
      run.counts.pending = 0;
    }
    Object.assign(run, { status: signal.aborted ? 'ABORTED' : exceeded ? 'FAILED' : 'SUCCEEDED', stopDate: Date.now() });
    if (signal.aborted) throw new LocalStatesError('States.Runtime', 'the execution was stopped');
    if (exceeded) {
      throw new LocalStatesError(
        'States.ExceedToleratedFailureThreshold',
        `The specified tolerated failure threshold was exceeded: ${run.counts.failed} of ${run.counts.total} child executions failed`,
      );
    }
    if (!spec.resultWriter) return results.map((result) => (result.ok ? result.output : { Error: result.error, Cause: result.cause }));
    return this.writeResults(spec, input, run, mapRunId, results);
  }

  private async itemsFromPath(spec: DistributedMapSpec, input: Json): Promise<Json[]> {
    const { items } = await evaluate(spec.itemsPath, input);
    if (!Array.isArray(items)) throw new LocalStatesError('States.Runtime', `Map "${spec.stateName}": ItemsPath does not select an array`);
    return items;
  }

  /** s3:listObjectsV2 as the ItemReader reads it: every page, each object as {Etag, Key, LastModified, Size, StorageClass}. */
  private async readItems(spec: DistributedMapSpec, input: Json): Promise<Json[]> {
    const parameters = await evaluate(spec.readerParameters!, input);
    const items: Json[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: parameters.Bucket, Prefix: parameters.Prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        items.push({
          Etag: object.ETag,
          Key: object.Key,
          LastModified: Math.floor((object.LastModified?.getTime() ?? 0) / 1000),
          Size: object.Size ?? 0,
          StorageClass: object.StorageClass ?? 'STANDARD',
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && (spec.maxItems === undefined || items.length < spec.maxItems));
    return spec.maxItems === undefined ? items : items.slice(0, spec.maxItems);
  }

  /** ResultWriter: `<Prefix>/<map run id>/manifest.json` + SUCCEEDED_0.json / FAILED_0.json, as AWS writes them. */
  private async writeResults(spec: DistributedMapSpec, input: Json, run: MapRunRecord, mapRunId: string, results: Json[]): Promise<Json> {
    const { Bucket, Prefix } = await evaluate(spec.resultWriter!, input);
    if (Prefix === REPLAY_RESULTS.prefix) {
      // What the archive bucket's lifecycle rules do on AWS (expire-replay-results, expire-replay-rejects).
      for (const [prefix, days] of [[Prefix, REPLAY_RESULTS.expireAfterDays], [REPLAY_REJECTS_PREFIX, REPLAY_REJECTS_EXPIRE_AFTER_DAYS]] as const) {
        await expireOldResults(this.s3, Bucket, prefix, days).catch((error: Error) =>
          console.error(`[stepfunctions] could not expire old ${prefix.replace(/\/$/, '')}/ objects: ${error.message}`),
        );
      }
    }
    const base = `${Prefix ? `${String(Prefix).replace(/\/$/, '')}/` : ''}${mapRunId}`;
    const stop = new Date().toISOString();
    const files: Record<string, { Key: string; Size: number }[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
    const groups = {
      SUCCEEDED: results.filter((r) => r.ok).map((r) => ({ ...r.record, Output: JSON.stringify(r.output), OutputDetails: { Included: true }, RedriveCount: 0, RedriveStatus: 'NOT_REDRIVABLE', Status: 'SUCCEEDED', StopDate: stop })),
      FAILED: results.filter((r) => !r.ok).map((r) => ({ ...r.record, Error: r.error, Cause: r.cause, RedriveCount: 0, RedriveStatus: 'REDRIVABLE', Status: 'FAILED', StopDate: stop })),
    };
    for (const [status, records] of Object.entries(groups)) {
      if (records.length === 0) continue;
      const key = `${base}/${status}_0.json`;
      const body = JSON.stringify(records);
      await this.s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: 'application/json' }));
      files[status]!.push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${base}/manifest.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket,
        Key: manifestKey,
        Body: JSON.stringify({ DestinationBucket: Bucket, MapRunArn: run.mapRunArn, ResultFiles: files }),
        ContentType: 'application/json',
      }),
    );
    run.counts.resultsWritten = results.length;
    return { MapRunArn: run.mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } };
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as { executions: ExecutionRecord[]; mapRuns: MapRunRecord[] };
      for (const record of saved.executions) {
        if (record.status === 'RUNNING') {
          Object.assign(record, { status: 'FAILED', stopDate: Date.now(), error: 'States.Runtime', cause: 'the local Step Functions endpoint restarted during the execution' });
        }
        this.executions.set(record.executionArn, record);
      }
      for (const run of saved.mapRuns) this.mapRuns.set(run.mapRunArn, run.status === 'RUNNING' ? { ...run, status: 'ABORTED' } : run);
    } catch (error) {
      console.error(`[stepfunctions] ignoring unreadable ${this.file}: ${(error as Error).message}`);
    }
  }

  private save(): void {
    const body = JSON.stringify({
      executions: [...this.executions.values()].map((record) => ({ ...record, history: [] })),
      mapRuns: [...this.mapRuns.values()],
    });
    writeFileSync(`${this.file}.tmp`, body);
    renameSync(`${this.file}.tmp`, this.file);
  }
}
