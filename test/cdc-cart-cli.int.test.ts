import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { JsonLinesDeadLetterStore } from '../adapters/dead-letters/json-lines-dead-letter-store';
import { localDeadLetterFile } from '../local/config';
import { readAllKinesisEvents, waitForKinesisEvents } from './support/cdc-kinesis';
import { retriedCommand, testStack } from './support/local-stack';

const run = promisify(execFile);
const BIN = resolve(__dirname, '..', 'bin', 'cdc-cart.cjs');

jest.setTimeout(180_000);

/** Runs `cdc-cart ARGS` against the test stack (its ports and data folder come from the environment). */
async function cdcCart(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: process.env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('cdc-cart, the inspection CLI', () => {
  let cartId: string;
  beforeAll(async () => {
    cartId = (await retriedCommand('POST', '/carts')).body.cartId;
    await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'teapot', quantity: 2 });
    // At least once (duplicates under chaos, as on AWS): wait for both versions.
    await waitForKinesisEvents((events) => new Set(events.filter((event) => event.envelope.aggregateId === cartId).map((event) => event.envelope.version)).size === 2);
  });

  it('prints a cart’s stored events beside its read model', async () => {
    let result = await cdcCart('cart', cartId);
    for (let tries = 0; tries < 120 && !result.stdout.includes('read model caught up'); tries++) {
      await new Promise((r) => setTimeout(r, 500));
      result = await cdcCart('cart', cartId);
    }
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`cart ${cartId}: stored version 2, read model caught up`);
    expect(result.stdout).toMatch(/v2 ItemAdded .*"sku":"teapot".* {3}version {3}2/);
    expect(result.stdout).toContain('teapot x2');
    const json = JSON.parse((await cdcCart('cart', cartId, '--json')).stdout);
    expect(json).toMatchObject({ cartId, storedVersion: 2, readModel: { version: 2 } });
    expect(await cdcCart('cart', '00000000-0000-4000-8000-000000000000')).toMatchObject({ code: 1, stderr: expect.stringContaining('no cart') });
  });

  it('prints the stream filtered by cart, and the archive by hour', async () => {
    const events = await cdcCart('events', '--cart', cartId);
    expect(events.code).toBe(0);
    // One line per record: both events, and any duplicate the (chaotic) stream holds.
    expect(events.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    expect(events.stdout).toContain('CartOpened');
    const records = (await cdcCart('events', '--cart', cartId, '--json')).stdout.trim().split('\n').map((line) => JSON.parse(line));
    // Kinesis is at least once and not in version order (under chaos as on AWS): each version, in any order.
    expect([...new Set(records.map((record) => record.envelope.version as number))].sort()).toEqual([1, 2]);

    let listing = await cdcCart('archive', 'ls', '--json');
    for (let tries = 0; tries < 120 && !listing.stdout.includes('events/'); tries++) {
      await new Promise((r) => setTimeout(r, 500));
      listing = await cdcCart('archive', 'ls', '--json');
    }
    const key = JSON.parse(listing.stdout)[0].objects[0].key as string;
    const object = await cdcCart('archive', 'cat', key);
    expect(object.code).toBe(0);
    // The archive is Firehose's: at least once, and under chaos with junk lines (as a producer's bad record would be).
    const archived = object.stdout.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as { eventId?: string }];
      } catch {
        return [];
      }
    });
    expect(archived.some((event) => typeof event.eventId === 'string')).toBe(true);
    expect(await cdcCart('archive', 'cat', '../secrets')).toMatchObject({ code: 2 });
  });

  it('has --help, refuses unknown commands with exit code 2, and hands replay, backfill and dead-letters to their CLIs', async () => {
    expect((await cdcCart('--help')).stdout).toContain('usage: cdc-cart <command>');
    expect(await cdcCart('frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
    expect((await cdcCart('replay', '--help')).stdout).toContain('--target projections|stream');
    expect(await cdcCart('replay', '--target', 'nowhere')).toMatchObject({ code: 2, stderr: expect.stringContaining('--target must be') });
    expect((await cdcCart('dead-letters', '--help')).stdout).toContain('dead letters');
  });

  it('redrives dead letters by id, keeping one that fails again', async () => {
    const store = new JsonLinesDeadLetterStore(localDeadLetterFile(testStack()));
    const event = (await readAllKinesisEvents()).find((e) => e.envelope.aggregateId === cartId)!.envelope;
    const marker = `cli-${Date.now()}`;
    await store.send([
      { source: 'pipe', reason: `Kinesis kept refusing (${marker})`, failedAt: new Date().toISOString(), ids: { eventId: event.eventId }, payload: event },
      { source: 'pipe', reason: `unreadable (${marker})`, failedAt: new Date().toISOString(), payload: { neither: 'record nor envelope' } },
    ]);
    // Without ids it lists the pending letters (docs/cli.md) and exits 0.
    const listing = await cdcCart('dead-letters', 'redrive');
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/^\d+ pending letter\(s\)/);
    const ids = listing.stdout.split('\n').filter((line) => line.includes(marker)).map((line) => line.trim().split(/\s+/)[0]!);
    expect(ids).toHaveLength(2);
    const result = await cdcCart('dead-letters', 'redrive', ...ids);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 letter(s) redriven, 1 kept');
    const after = await cdcCart('dead-letters', 'redrive');
    expect(after.stdout).not.toContain(ids[0]);
    expect(after.stdout).toContain(ids[1]);
    expect(await cdcCart('dead-letters', 'redrive', '--all', ids[1]!)).toMatchObject({ code: 2, stderr: expect.stringContaining('not both') });
  });
});
