import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CART_EVENT_SCHEMAS, isCartEventType } from '../../domain/cart';
import { EventEnvelope } from '../../domain/events';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Docs that cannot drift: every JSON value in a code block of docs/ (a whole block, or one line of a JSON-lines
 * block) is searched for events, that is objects with `type`, `schemaVersion` and `data`; each must be what the
 * code writes today: its type in the domain's list, at the type's current schemaVersion, its data accepted by the
 * type's current schema, and, when it is a whole envelope, accepted by the envelope's schema. A `…` in an example
 * stands for any value: such an example is checked for its type, version and data only.
 */
const DOCS = join(__dirname, '..', '..', 'docs');

/** What a `…` becomes: an example with one is checked for its type, version and data, not as a whole envelope. */
const PLACEHOLDER = 'elided-in-the-docs';

function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((match) => match[1]!);
}

function jsonValues(block: string): unknown[] {
  const candidates = new Set([block.trim(), ...block.split('\n').map((line) => line.trim())]);
  const values: unknown[] = [];
  for (const text of candidates) {
    const trimmed = text.trim().replace(/,$/, '');
    if (!trimmed.startsWith('{')) continue;
    try {
      values.push(JSON.parse(trimmed.replaceAll('"…"', `"${PLACEHOLDER}"`).replaceAll('…', '0')));
    } catch {
      // Not JSON (a shell line, a fragment): nothing to check.
    }
  }
  return values;
}

function eventsIn(value: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) eventsIn(item, found);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // A DynamoDB item as the console or a stream record shows it ({"type":{"S":"ItemAdded"}, ...}) is read as the store reads it.
    if ('type' in record && 'schemaVersion' in record && 'data' in record) found.push(typeof record.type === 'object' ? unmarshall(record as never) : record);
    for (const child of Object.values(record)) eventsIn(child, found);
  }
  return found;
}

export function problemsOf(markdown: string): string[] {
  const problems: string[] = [];
  for (const block of codeBlocks(markdown)) {
    for (const value of jsonValues(block)) {
      for (const event of eventsIn(value)) {
        const type = String(event.type);
        if (!isCartEventType(type)) {
          problems.push(`unknown event type ${type}`);
          continue;
        }
        const current = CART_EVENT_SCHEMAS[type];
        if (event.schemaVersion !== current.schemaVersion) problems.push(`${type} at schemaVersion ${String(event.schemaVersion)}, but the code writes ${current.schemaVersion}`);
        if (!current.schema.safeParse(event.data).success) problems.push(`${type} data ${JSON.stringify(event.data)} is refused by its schema`);
        if ('eventId' in event && !JSON.stringify(event).includes(PLACEHOLDER) && !EventEnvelope.safeParse(event).success) problems.push(`${type} envelope refused by the envelope schema`);
      }
    }
  }
  return problems;
}

describe('JSON examples in docs/ (events, records, envelopes)', () => {
  const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md'));

  it('finds the events it checks (the check is not vacuous)', () => {
    const count = pages.reduce((n, page) => n + codeBlocks(readFileSync(join(DOCS, page), 'utf8')).flatMap(jsonValues).flatMap((v) => eventsIn(v)).length, 0);
    expect(count).toBeGreaterThanOrEqual(3);
  });

  it('refuses an ItemAdded at schemaVersion 1 and an event type the code does not have', () => {
    expect(problemsOf('```json\n{"type":"ItemAdded","schemaVersion":1,"data":{"sku":"A","quantity":1}}\n```\n')).toEqual(['ItemAdded at schemaVersion 1, but the code writes 2']);
    expect(problemsOf('```\n{"type":"ItemBought","schemaVersion":1,"data":{}}\n```\n')).toEqual(['unknown event type ItemBought']);
  });

  it.each(pages)('docs/%s shows events as the code writes them', (page) => {
    expect(problemsOf(readFileSync(join(DOCS, page), 'utf8'))).toEqual([]);
  });
});
