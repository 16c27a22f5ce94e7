import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { duration, PHASES, retireTimeLeftMs } from './replay-run';

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
