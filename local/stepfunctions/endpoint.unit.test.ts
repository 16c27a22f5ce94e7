import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnyHandler } from '../lambda/invoke';
import { localFunctionArn } from './arns';
import { compileDefinition, type CompiledStateMachine } from './compile';
import { LocalStepFunctions } from './runtime';
import { createStepFunctionsApi, LOCAL_REDRIVE_REFUSAL } from './server';

/**
 * The local endpoint's promises that the replay and backfill rely on, with a tiny state machine and a fake Lambda
 * (the real machines catch their children's failures, so they never reach the tolerated-failure threshold):
 * ToleratedFailurePercentage, StopExecution, GetExecutionHistory and executions kept across restarts.
 */

const WORKER = 'replayObject'; // any registered Lambda name; its handler is replaced below

function fanOut(toleratedFailurePercentage: number): CompiledStateMachine {
  return compileDefinition(
    `fan-out-${toleratedFailurePercentage}`,
    JSON.stringify({
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Work',
            States: { Work: { Type: 'Task', Resource: localFunctionArn(WORKER), End: true } },
          },
          MaxConcurrency: 1,
          ToleratedFailurePercentage: toleratedFailurePercentage,
          End: true,
        },
      },
    }),
    'test machine',
  );
}

/** Releases the "hang" items when the tests end (the library keeps a Task's timeout timer until the Task returns). */
const hanging: (() => void)[] = [];
afterAll(() => hanging.forEach((release) => release()));

/** The fake worker: echoes its item, fails on "bad", and waits on "hang" until the tests end. */
const worker: AnyHandler = async (item: string) => {
  if (item === 'bad') throw Object.assign(new Error('this item is bad'), { name: 'BadItem' });
  if (item === 'hang') await new Promise<void>((resolve) => hanging.push(resolve));
  return item;
};

const machines = new Map([fanOut(0), fanOut(25)].map((machine) => [machine.name, machine]));

function endpoint(dataDir = mkdtempSync(join(tmpdir(), 'sfn-'))) {
  const runtime = new LocalStepFunctions(machines, {} as S3Client, dataDir, () => worker);
  return { runtime, api: createStepFunctionsApi(runtime), dataDir };
}

async function untilDone(api: ReturnType<typeof createStepFunctionsApi>, executionArn: string) {
  for (let i = 0; i < 200; i++) {
    const execution = api.DescribeExecution!({ executionArn });
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${executionArn} still running`);
}

const start = (api: ReturnType<typeof createStepFunctionsApi>, machine: string, items: string[], name?: string) =>
  api.StartExecution!({ stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`, input: JSON.stringify({ items }), ...(name ? { name } : {}) }).executionArn as string;

describe('local Step Functions endpoint', () => {
  it('fails a Distributed Map with States.ExceedToleratedFailureThreshold past ToleratedFailurePercentage, and aborts the rest', async () => {
    const { api, runtime } = endpoint();
    const arn = start(api, 'fan-out-0', ['a', 'bad', 'c', 'd']);
    const execution = await untilDone(api, arn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    const run = [...runtime.mapRuns.values()].find((r) => r.executionArn === arn)!;
    expect(run).toMatchObject({ status: 'FAILED', counts: { total: 4, succeeded: 1, failed: 1, aborted: 2, pending: 0 } });
  });

  it('tolerates failures up to ToleratedFailurePercentage, and reports each failed child in the output', async () => {
    const { api } = endpoint();
    const execution = await untilDone(api, start(api, 'fan-out-25', ['a', 'bad', 'c', 'd']));
    expect(execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output);
    expect(output).toEqual(['a', { Error: 'BadItem', Cause: expect.stringContaining('this item is bad') }, 'c', 'd']);
  });

  it('StopExecution aborts a running execution with the given error and cause; the history shows the states entered', async () => {
    const { api } = endpoint();
    const arn = start(api, 'fan-out-0', ['a', 'hang']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(api.DescribeExecution!({ executionArn: arn }).status).toBe('RUNNING');
    api.StopExecution!({ executionArn: arn, error: 'StoppedByOperator', cause: 'Ctrl-C' });
    expect(api.DescribeExecution!({ executionArn: arn })).toMatchObject({ status: 'ABORTED', error: 'StoppedByOperator', cause: 'Ctrl-C' });

    const done = await untilDone(api, start(api, 'fan-out-0', ['a']));
    const { events } = api.GetExecutionHistory!({ executionArn: done.executionArn });
    expect(events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining(['ExecutionStarted', 'TaskStateEntered', 'ExecutionSucceeded']));
    expect(events.find((event: { type: string }) => event.type === 'TaskStateEntered').stateEnteredEventDetails).toMatchObject({ name: 'Fan' });
    expect(events.map((event: { id: number }) => event.id)).toEqual(events.map((_: unknown, index: number) => index + 1));
  });

  it('RedriveExecution: refuses plainly with ExecutionNotRedrivable (it cannot resume from the failed state as AWS does)', async () => {
    const { api } = endpoint();
    const failed = await untilDone(api, start(api, 'fan-out-0', ['a', 'bad']));
    const refusal = (() => {
      try {
        api.RedriveExecution!({ executionArn: failed.executionArn });
      } catch (error) {
        return error as { type: string; message: string };
      }
      return undefined;
    })();
    expect(refusal).toMatchObject({ type: 'ExecutionNotRedrivable', message: expect.stringContaining('does not redrive executions') });
    expect(api.DescribeExecution!({ executionArn: failed.executionArn })).toMatchObject({ redriveCount: 0, redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: LOCAL_REDRIVE_REFUSAL });
    const succeeded = await untilDone(api, start(api, 'fan-out-0', ['a']));
    expect(() => api.RedriveExecution!({ executionArn: succeeded.executionArn })).toThrow(/SUCCEEDED and cannot be redriven/);
    expect(() => api.RedriveExecution!({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:fan-out-0:nope' })).toThrow(/Execution Does Not Exist/);
  });

  it('keeps executions across a restart; one that was running is recorded as FAILED with States.Runtime', async () => {
    const first = endpoint();
    const hanging = start(first.api, 'fan-out-0', ['hang'], 'was-running');
    const finished = await untilDone(first.api, start(first.api, 'fan-out-0', ['a'], 'finished'));

    const restarted = endpoint(first.dataDir); // the process died: nothing was stopped
    expect(restarted.api.DescribeExecution!({ executionArn: finished.executionArn })).toMatchObject({ status: 'SUCCEEDED', output: '["a"]', name: 'finished' });
    expect(restarted.api.DescribeExecution!({ executionArn: hanging })).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(restarted.api.ListExecutions!({}).executions.map((e: { name: string }) => e.name).sort()).toEqual(['finished', 'was-running']);
    first.runtime.stopAll();
  });
});
