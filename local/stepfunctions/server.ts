import './polyfill';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { s3Client } from '../../adapters/aws-clients';
import { STATE_MACHINES, type StateMachineName } from '../../statemachines/state-machines';
import { LOCAL_HOST } from '../config';
import type { LocalComponent } from '../process/component';
import { compileStateMachine, type CompiledStateMachine } from './compile';
import { installAwsCallChaos } from '../chaos/aws-call-faults';
import { chaosFromEnvironment } from '../chaos/chaos';
import { LocalStepFunctions, type ExecutionRecord, type MapRunRecord } from './runtime';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An error as the AWS JSON 1.0 protocol carries it; the SDK turns `__type` into the exception class. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/**
 * The local Step Functions endpoint: enough of the AWS JSON 1.0 API (X-Amz-Target: AWSStepFunctions.<Op>) for
 * @aws-sdk/client-sfn, running statemachines/*.asl.json with aws-local-stepfunctions and the registered Lambda
 * handlers. Operations: ListStateMachines, DescribeStateMachine, StartExecution, DescribeExecution,
 * ListExecutions, StopExecution, GetExecutionHistory, ListMapRuns, DescribeMapRun.
 */
export function createStepFunctionsApi(runtime: LocalStepFunctions): Record<string, (request: Json) => Json> {
  const machines = runtime.machines;
  const machineOf = (arn: unknown): CompiledStateMachine => {
    const machine = typeof arn === 'string' ? runtime.machineByArn(arn) : undefined;
    if (!machine) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return machine;
  };
  const executionOf = (arn: unknown): ExecutionRecord => {
    const record = typeof arn === 'string' ? runtime.executions.get(arn) : undefined;
    if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return record;
  };
  const mapRunOf = (arn: unknown): MapRunRecord => {
    const run = typeof arn === 'string' ? runtime.mapRuns.get(arn) : undefined;
    if (!run) throw new ApiError('ResourceNotFound', `Map Run Does Not Exist: '${String(arn)}'`);
    return run;
  };
  const summary = (record: ExecutionRecord) => ({
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate ? { stopDate: seconds(record.stopDate) } : {}),
  });
  const page = <T>(items: T[], request: Json, key: string) => {
    const max = Math.min(Math.max(Number(request.maxResults) || 100, 1), 1000);
    const start = request.nextToken ? Number(Buffer.from(String(request.nextToken), 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidToken', 'Invalid Token');
    const slice = items.slice(start, start + max);
    return { [key]: slice, ...(start + max < items.length ? { nextToken: Buffer.from(String(start + max)).toString('base64url') } : {}) };
  };

  return {
    ListStateMachines: (request) =>
      page(
        [...machines.values()].map((machine) => ({
          stateMachineArn: machine.arn,
          name: machine.name,
          type: 'STANDARD',
          creationDate: seconds(machine.createdAt.getTime()),
        })),
        request,
        'stateMachines',
      ),
    DescribeStateMachine: (request) => {
      const machine = machineOf(request.stateMachineArn);
      return {
        stateMachineArn: machine.arn,
        name: machine.name,
        status: 'ACTIVE',
        definition: machine.definition,
        roleArn: 'arn:aws:iam::000000000000:role/local-stepfunctions',
        type: 'STANDARD',
        creationDate: seconds(machine.createdAt.getTime()),
        description: machine.description,
      };
    },
    StartExecution: (request) => {
      const machine = machineOf(request.stateMachineArn);
      const name = request.name ?? randomUUID();
      if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
        throw new ApiError('InvalidName', `Invalid Name: '${String(name)}' (1-80 characters: letters, digits, - and _)`);
      }
      const inputText = request.input ?? '{}';
      try {
        JSON.parse(inputText);
      } catch {
        throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input must be a JSON text');
      }
      const existing = [...runtime.executions.values()].find((record) => record.stateMachineArn === machine.arn && record.name === name);
      if (existing) {
        // As on AWS: the same name and input while running is the same execution; anything else is refused.
        if (existing.status === 'RUNNING' && existing.input === inputText) return { executionArn: existing.executionArn, startDate: seconds(existing.startDate) };
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      }
      const record = runtime.start(machine, name, inputText);
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },
    DescribeExecution: (request) => {
      const record = executionOf(request.executionArn);
      return {
        ...summary(record),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
      };
    },
    ListExecutions: (request) => {
      const filter = request.statusFilter as string | undefined;
      let records = [...runtime.executions.values()];
      if (request.mapRunArn) throw new ApiError('ValidationException', 'listing the child executions of a Map Run is not supported locally');
      if (request.stateMachineArn) records = records.filter((record) => record.stateMachineArn === machineOf(request.stateMachineArn).arn);
      if (filter) records = records.filter((record) => record.status === filter);
      records.sort((a, b) => b.startDate - a.startDate);
      return page(records.map(summary), request, 'executions');
    },
    StopExecution: (request) => {
      const record = executionOf(request.executionArn);
      runtime.stop(record, request.error, request.cause);
      return { stopDate: seconds(record.stopDate ?? Date.now()) };
    },
    GetExecutionHistory: (request) => {
      const record = executionOf(request.executionArn);
      const events = record.history.map((entry, index) => ({
        timestamp: seconds(entry.timestamp),
        type: entry.type,
        id: index + 1,
        previousEventId: index,
        ...(entry.stateName ? { stateEnteredEventDetails: { name: entry.stateName, input: JSON.stringify(entry.detail?.input ?? null) } } : {}),
        ...(entry.detail?.error ? { executionFailedEventDetails: { error: entry.detail.error, cause: String(entry.detail.cause ?? '') } } : {}),
      }));
      return page(request.reverseOrder ? events.reverse() : events, request, 'events');
    },
    ListMapRuns: (request) => {
      const record = executionOf(request.executionArn);
      const runs = [...runtime.mapRuns.values()].filter((run) => run.executionArn === record.executionArn);
      return page(
        runs.map((run) => ({
          executionArn: run.executionArn,
          mapRunArn: run.mapRunArn,
          stateMachineArn: record.stateMachineArn,
          startDate: seconds(run.startDate),
          ...(run.stopDate ? { stopDate: seconds(run.stopDate) } : {}),
        })),
        request,
        'mapRuns',
      );
    },
    DescribeMapRun: (request) => {
      const run = mapRunOf(request.mapRunArn);
      return {
        mapRunArn: run.mapRunArn,
        executionArn: run.executionArn,
        status: run.status,
        startDate: seconds(run.startDate),
        ...(run.stopDate ? { stopDate: seconds(run.stopDate) } : {}),
        maxConcurrency: run.maxConcurrency,
        toleratedFailurePercentage: run.toleratedFailurePercentage,
        toleratedFailureCount: run.toleratedFailureCount,
        itemCounts: { ...run.counts },
        executionCounts: { ...run.counts },
      };
    },
  };
}

export const stepFunctionsEndpoint: LocalComponent = {
  name: 'stepfunctions',
  async start(config) {
    const machines = new Map<string, CompiledStateMachine>(
      (Object.keys(STATE_MACHINES) as StateMachineName[]).map((name) => [name, compileStateMachine(name, config)]),
    );
    const runtime = new LocalStepFunctions(machines, s3Client(), config.dataDir);
    // The replay and backfill steps' clients (not the runtime's own S3 reader above, which plays AWS's side).
    installAwsCallChaos(chaosFromEnvironment('stepfunctions', config.dataDir), { stalls: true });
    const operations = createStepFunctionsApi(runtime);

    const server = createServer((request, response) => {
      void serve(request, response).catch((error: Error) => {
        console.error('[stepfunctions] request failed', error);
        send(response, 500, { __type: 'InternalFailure', message: error.message });
      });
    });

    async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
      const body = await readBody(request);
      if (request.method !== 'POST' || !Object.hasOwn(operations, operation)) {
        return send(response, 400, { __type: 'UnknownOperationException', message: `unsupported operation "${target}" (supported: ${Object.keys(operations).join(', ')})` });
      }
      let parsed: Json;
      try {
        parsed = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        return send(response, 400, { __type: 'SerializationException', message: 'the request body is not JSON' });
      }
      try {
        send(response, 200, operations[operation]!(parsed));
      } catch (error) {
        if (error instanceof ApiError) return send(response, error.status, { __type: error.type, message: error.message });
        throw error;
      }
    }

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.ports.stepfunctions, LOCAL_HOST, () => resolve());
    });
    return {
      stop: async () => {
        runtime.stopAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      },
    };
  },
};

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('ValidationException', 'request too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  response.end(JSON.stringify(body));
}
