import { JsonLinesDeadLetterStore } from '../adapters/dead-letters/json-lines-dead-letter-store';
import type { DeadLetter } from '../application/dead-letters';
import { loadLocalConfig, localDeadLetterFile } from '../local/config';

const USAGE = `Lists the local stack's dead letters (records the CDC Pipe, its enrichment or a consumer gave up on).

  npm run dead-letters                    one line per letter: time, source, ids, reason
  npm run dead-letters -- --json          the letters as stored, one JSON object per line (payload included)
  npm run dead-letters -- --source pipe   only letters from one source (cdc-enrichment, pipe, consumer:...)

Reads LOCAL_DATA_DIR (default .local/data)/dead-letters.jsonl.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const sourceAt = argv.indexOf('--source');
  const source = sourceAt >= 0 ? argv[sourceAt + 1] : undefined;
  if (sourceAt >= 0 && !source) {
    console.error('--source needs a value\n\n' + USAGE);
    return 2;
  }
  const store = new JsonLinesDeadLetterStore(localDeadLetterFile(loadLocalConfig()));
  const letters = (await store.list()).filter((letter) => source === undefined || letter.source === source);
  if (argv.includes('--json')) {
    for (const letter of letters) console.log(JSON.stringify(letter));
    return 0;
  }
  if (letters.length === 0) {
    console.log(`no dead letters${source ? ` from ${source}` : ''} in ${store.file}`);
    return 0;
  }
  for (const letter of letters) console.log(summary(letter));
  console.log(`\n${letters.length} dead letter(s) in ${store.file}; --json shows them whole`);
  return 0;
}

function summary(letter: DeadLetter): string {
  const ids = letter.ids ? ` ${JSON.stringify(letter.ids)}` : '';
  return `${letter.failedAt}  ${letter.source}${ids}\n    ${letter.reason}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
