import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { differenceFrom } from './compare-output';
import { tourSteps } from './readme-tour';
import { runTour } from './tour-runner';

const ROOT = resolve(__dirname, '..', '..');

describe('differenceFrom', () => {
  test('JSON: same keys and values; … matches any value, and any text inside a string', () => {
    expect(differenceFrom('{"cartId":"…","version":2}', '{"version":2,"cartId":"0b6f3c1e-8f8a-4c57-9a55-2f4f7f0c2d11"}')).toBeUndefined();
    expect(differenceFrom('{"status":"ok","components":…}', '{"status":"ok","components":{"api":{"ready":true}}}')).toBeUndefined();
    expect(differenceFrom('{"cartId":"…","version":2}', '{"cartId":"x","version":3}')).toBe('$.version: expected 2, got 3');
    expect(differenceFrom('{"cartId":"…","version":2}', '{"cartId":"x","version":2,"extra":1}')).toBe('$: expected the keys cartId, version, got cartId, extra, version');
    expect(differenceFrom('{"items":[{"sku":"A"}]}', '{"items":[{"sku":"A"},{"sku":"B"}]}')).toBe('$.items: expected 1 element(s), got 2');
    expect(differenceFrom('{"error":{"code":"CART_CLOSED","message":"…"}}', '{"cartId":"x","version":6}')).toMatch(/expected the keys error/);
    expect(differenceFrom('{"a":1}', '<html>502</html>')).toBe('expected JSON, got text that does not parse as JSON');
  });

  test('ids and timestamps are masked on both sides', () => {
    expect(differenceFrom('{"id":"11111111-2222-4333-8444-555555555555","at":"2026-01-01T00:00:00.000Z"}', '{"id":"0b6f3c1e-8f8a-4c57-9a55-2f4f7f0c2d11","at":"2026-11-30T04:35:59.662Z"}')).toBeUndefined();
  });

  test('text: line by line, … spanning any characters and lines, trailing blanks ignored', () => {
    const replayOutput = 'started arn:x\n  on local\npreparing... 0:00\nsucceeded:\n  objects                1   \n  failedObjects          0\n  durationMs             751\n';
    expect(differenceFrom('started …\nsucceeded:\n…failedObjects          0\n…', replayOutput)).toBeUndefined();
    expect(differenceFrom('started …\nsucceeded:\n…failedObjects          0\n…', replayOutput.replace('failedObjects          0', 'failedObjects          2'))).toBe('the text differs');
    expect(differenceFrom('no dead letters in …dead-letters.jsonl', 'no dead letters in /tmp/x/dead-letters.jsonl\n')).toBeUndefined();
  });
});

describe('tourSteps', () => {
  test('splits the tour blocks into commands and the answers shown below them', () => {
    const readme = [
      '# Title',
      '## Five-minute tour',
      '```sh',
      'A=1            # set up',
      'echo $A',
      '# → 1',
      '# an explanation, not an answer',
      'true',
      '```',
      'Text.',
      '```json',
      '{"not":"run"}',
      '```',
      '```sh',
      'printf "x\\ny"',
      '# → x',
      '# → y',
      '```',
      '## Next',
      '```sh',
      'echo not in the tour',
      '```',
    ].join('\n');
    expect(tourSteps(readme)).toEqual([
      { number: 1, line: 4, commands: 'A=1            # set up\necho $A', expected: '1' },
      { number: 2, line: 8, commands: 'true' },
      { number: 3, line: 15, commands: 'printf "x\\ny"', expected: 'x\ny' },
    ]);
  });

  test("the README's tour has steps, every one with a command", () => {
    const steps = tourSteps(readFileSync(resolve(ROOT, 'README.md'), 'utf8'));
    expect(steps.length).toBeGreaterThanOrEqual(10);
    for (const step of steps) expect(step.commands.trim()).not.toBe('');
  });
});

describe('runTour', () => {
  const options = { env: process.env, cwd: ROOT, stepTimeoutMs: 5_000 };
  const step = (number: number, commands: string, expected?: string) => ({ number, line: number, commands, ...(expected === undefined ? {} : { expected }) });

  test('runs the steps in one shell (variables carry over) and checks each answer', async () => {
    const results = await runTour([step(1, 'CART=$(echo \'{"cartId":"abc"}\' | node -pe \'JSON.parse(fs.readFileSync(0)).cartId\')'), step(2, 'echo "{\\"cart\\":\\"$CART\\"}"', '{"cart":"abc"}')], options);
    expect(results.map((result) => [result.ok, result.problem])).toEqual([
      [true, undefined],
      [true, undefined],
    ]);
  });

  test('stops at the first step that answers something else, naming it', async () => {
    const results = await runTour([step(1, 'echo \'{"version":3}\'', '{"version":2}'), step(2, 'echo never')], options);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, step: { number: 1 }, problem: 'the answer differs from the README: $.version: expected 2, got 3' });
  });

  test('a failing command fails its step, with what it printed on stderr', async () => {
    const [result] = await runTour([step(1, 'ls /no/such/folder')], options);
    expect(result).toMatchObject({ ok: false, problem: 'exit status 2' });
    expect(result!.errorOutput).toMatch(/No such file/);
  });

  // stdout and stderr are two pipes with no order between them: the step's end can be read on stdout before its
  // stderr. Here the step's stderr passes through a stage that holds it back, as a busy machine can.
  test('a step\'s stderr is all in its result, even when it is read after the step\'s stdout', async () => {
    const [result] = await runTour([step(1, 'exec 2> >(sleep 0.3; cat >&2); echo held back >&2; false')], options);
    expect(result).toMatchObject({ ok: false, problem: 'exit status 1' });
    expect(result!.errorOutput).toBe('held back\n');
  });

  test('a step that never answers fails after the timeout, and what it started does not outlive the tour', async () => {
    const seconds = `${30 + Math.random()}`.slice(0, 9);
    const [result] = await runTour([step(1, `sleep ${seconds}`)], { ...options, stepTimeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, problem: 'no answer within 0 s' });
    // Left running, the sleep would hold the tour's pipes open for 30 s (jest's "worker failed to exit gracefully").
    const stillRunning = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.trim() === `sleep ${seconds}`);
    const deadline = Date.now() + 5_000;
    while (stillRunning() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stillRunning()).toBe(false);
  });

  test('a command that reads its input does not swallow the next steps', async () => {
    const results = await runTour([step(1, 'cat'), step(2, 'echo after', 'after')], options);
    expect(results.map((result) => result.ok)).toEqual([true, true]);
  });
});
