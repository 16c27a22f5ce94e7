import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterStore } from '../../adapters/dead-letters/json-lines-dead-letter-store';
import { ENV } from '../../lambdas/environment';
import { testStack } from '../support/local-stack';
import { auditOutcome, awaitConvergence } from './support/pipeline-audit';
import { runCartLoad } from './support/load';
import { recordOutcome } from './support/summary';

/** Items written straight into the event store, as a buggy writer or a hand edit would: no schema accepts them. */
function poisonItems(cartId: string): Record<string, unknown>[] {
  const base = { aggregateId: cartId, aggregateType: 'Cart', schemaVersion: 1, occurredAt: new Date().toISOString() };
  return [
    { ...base, version: 1, eventId: randomUUID(), type: 'CartTeleported', data: {} },
    { ...base, version: 2, eventId: randomUUID(), type: 'ItemAdded', data: { sku: 'no spaces allowed', quantity: -3 } },
    { ...base, version: 3, eventId: randomUUID(), type: 'ItemAdded', schemaVersion: 99, data: { sku: 'A', quantity: 1 } },
  ];
}

describe('poison records', () => {
  it('an item no event schema accepts goes to the dead-letter store with its reason; other carts keep flowing', async () => {
    const file = process.env[ENV.localDeadLetterFile];
    if (!file) throw new Error(`${ENV.localDeadLetterFile} is not set by the local stack`);
    const deadLetters = new JsonLinesDeadLetterStore(file);
    const before = (await deadLetters.list()).length;

    const documents = dynamoDbDocumentClient();
    const poisonCart = randomUUID();
    const poison = poisonItems(poisonCart);
    for (const item of poison) await documents.send(new PutCommand({ TableName: testStack().resources.eventStoreTable, Item: item }));
    const load = await runCartLoad({ carts: 30, concurrency: 4, tag: 'AFTER-POISON' });

    const audit = await awaitConvergence(load.cartIds, 120_000);
    const deadline = Date.now() + 60_000;
    // Dead letters are at least once too: a batch the Pipe retries or redelivers through the enrichment sends its
    // letters again. What must hold: each poison record has its letter, by stream record id.
    const poisonRecordsLettered = (all: typeof letters) => new Set(all.filter((l) => JSON.stringify(l).includes(poisonCart)).map((l) => String(l.ids?.eventID))).size;
    let letters = (await deadLetters.list()).slice(before);
    while (poisonRecordsLettered(letters) < poison.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      letters = (await deadLetters.list()).slice(before);
    }
    const aboutPoison = letters.filter((letter) => JSON.stringify(letter).includes(poisonCart));

    recordOutcome({
      scenario: 'poison records',
      operations: load.commands + poison.length,
      faultsInjected: poison.length,
      ...auditOutcome(audit),
      note: `${aboutPoison.length} dead letters for the ${poison.length} poison records`,
    });
    expect(load.failures).toEqual([]);
    expect(poisonRecordsLettered(aboutPoison)).toBe(poison.length);
    for (const letter of aboutPoison) expect(letter.reason).toMatch(/CartTeleported|sku|quantity|schemaVersion/);
    expect(audit.missingFromKinesis).toEqual([]);
    expect(audit.missingFromArchive).toEqual([]);
    expect(audit.projectionMismatches).toEqual([]);
    expect(audit.missingFromEventLog).toBe(0);
    expect(audit.eventLogOutOfOrder).toEqual([]);
  });
});
