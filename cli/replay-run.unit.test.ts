import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { duration, PHASES, redriveTarget, redriveWithProgress, retireTimeLeftMs, UsageError } from './replay-run';

type AslNode = { States?: Record<string, AslNode>; Iterator?: AslNode; ItemProcessor?: AslNode; Branches?: AslNode[] };
const statesOf = (node: AslNode): string[] =>
  Object.entries(node.States ?? {}).flatMap(([name, state]) => [
    name,
    ...(state.Iterator ? statesOf(state.Iterator) : []),
    ...(state.ItemProcessor ? statesOf(state.ItemProcessor) : []),
    ...(state.Branches ?? []).flatMap(statesOf),
  ]);

describe('the phase of a run, in words', () => {
  const directory = join(__dirname, '..', 'statemachines');
  const files = readdirSync(directory).filter((file) => file.endsWith('.asl.json'));

  test.each(files)('every state of %s has words (the console and the progress line never show a raw state name)', (file) => {
    const states = statesOf(JSON.parse(readFileSync(join(directory, file), 'utf8')) as AslNode);
    expect(states.length).toBeGreaterThan(0);
    expect(states.filter((state) => PHASES[state] === undefined)).toEqual([]);
    for (const state of states) expect(PHASES[state]).not.toBe(state);
  });

  test('during the wait before retiring, the time the old generation has left', () => {
    const entered = new Date('2026-12-05T10:00:00Z');
    const input = JSON.stringify({ replay: { retireAfterSeconds: 300 } });
    expect(retireTimeLeftMs(input, entered, entered.getTime() + 28_000)).toBe(272_000);
    expect(retireTimeLeftMs(input, entered, entered.getTime() + 400_000)).toBe(0);
    expect(retireTimeLeftMs('not json', entered, 0)).toBeUndefined();
    expect(retireTimeLeftMs(undefined, entered, 0)).toBeUndefined();
    expect(duration(272_000)).toBe('4:32');
    expect(duration(3_725_000)).toBe('1:02:05');
  });
});

describe('cdc-cart replay --redrive', () => {
  const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:prod-replay:replay-2026-12-05';
  const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;

  test('sends RedriveExecution for the execution, then follows it to its end', async () => {
    const sent: unknown[] = [];
    const client = {
      send: async (command: unknown) => {
        sent.push(command);
        if (command instanceof RedriveExecutionCommand) return { redriveDate: new Date() };
        if (command instanceof DescribeExecutionCommand) return { status: 'SUCCEEDED', executionArn: ARN, output: '{}' };
        return {};
      },
    } as unknown as SFNClient;
    const execution = await redriveWithProgress({ client, where: 'AWS' }, ARN, { unit: 'objects', out: quiet });
    expect(execution.status).toBe('SUCCEEDED');
    const redrive = sent.find((command) => command instanceof RedriveExecutionCommand) as RedriveExecutionCommand;
    expect(redrive.input).toEqual({ executionArn: ARN });
  });

  test('refuses what is no execution ARN before calling anything', async () => {
    const client = { send: async () => { throw new Error('must not be called'); } } as unknown as SFNClient;
    await expect(redriveWithProgress({ client, where: 'AWS' }, 'replay-2026', { unit: 'objects', out: quiet })).rejects.toBeInstanceOf(UsageError);
  });

  test('on AWS it goes to the execution\'s own region', async () => {
    expect(await redriveTarget(ARN, { aws: true }).client.config.region()).toBe('eu-west-1');
    expect(redriveTarget(ARN, {}).where).toMatch(/^local endpoint 127\.0\.0\.1:/);
  });
});
