import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { endpointOf, loadLocalConfig } from '../local/config';
import { tourSteps, TOUR_HEADING } from './docs/readme-tour';
import { runTour, type StepResult } from './docs/tour-runner';

const ROOT = resolve(__dirname, '..');
const USAGE = `Runs the README's "${TOUR_HEADING}" against the running local stack and checks every answer.

  npm run tour                       against npm start's stack (API_PORT, default 3000)
  API_PORT=3100 npm run tour         against a stack on other ports (set the same variables as for npm start)

Exit code 0 when every step answers what the README shows, 1 naming the first step that does not, 2 when no
stack answers.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    console.error(`unknown argument(s): ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const api = endpointOf(loadLocalConfig().ports.api);
  const health = await fetch(`${api}/health`).then((response) => response.status, () => undefined);
  if (health !== 200) {
    console.error(`No ready local stack answers on ${api} (${health === undefined ? 'no answer' : `GET /health: ${health}`}).\nStart one with npm start (and set API_PORT etc. as you did for it), then run npm run tour again.`);
    return 2;
  }
  const steps = tourSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  console.log(`README tour: ${steps.length} steps against ${api}`);
  const results = await runTour(steps, { env: process.env, cwd: ROOT, stepTimeoutMs: 120_000, onStep: print });
  const failed = results.find((result) => !result.ok);
  if (failed) {
    console.error(`\nThe tour failed at step ${failed.step.number} (README.md line ${failed.step.line}): ${failed.problem}`);
    return 1;
  }
  console.log(`\nAll ${results.length} steps answered what the README shows.`);
  return 0;
}

function print(result: StepResult): void {
  const shownCommand = result.step.commands.split('\n').at(-1)!;
  console.log(`${result.ok ? 'ok  ' : 'FAIL'} ${String(result.step.number).padStart(2)}  README.md:${result.step.line}  ${shownCommand.length > 100 ? `${shownCommand.slice(0, 97)}...` : shownCommand}`);
  if (result.ok) return;
  console.log(`      ${result.problem}`);
  if (result.step.expected !== undefined) console.log(indent('expected', result.step.expected));
  console.log(indent('got', result.output.trim() || '(nothing)'));
  if (result.errorOutput.trim()) console.log(indent('stderr', result.errorOutput.trim()));
}

function indent(label: string, text: string): string {
  return `      ${label}:\n${text.split('\n').map((line) => `        ${line}`).join('\n')}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
