import { commandEventId } from '../application/cart-commands';
import type { EventEnvelope } from '../domain/events';
import { foldProjections, generationsOf, readGenerations } from '../domain/projections';
import { describe, type World } from './world';

/**
 * What must hold once every actor has finished (quiescence), whatever the schedule did to them. Each returns the
 * broken promises it finds, in words.
 */
export async function checkInvariants(world: World, stored: ReadonlyMap<string, EventEnvelope[]>): Promise<string[]> {
  const violations: string[] = [];
  const all = [...stored.values()].flat();
  const storedIds = new Set(all.map((e) => e.eventId));

  // No stored event changed, none is missing in its stream, no command was applied twice.
  for (const [cartId, events] of stored) {
    events.forEach((event, index) => {
      if (event.version !== index + 1) violations.push(`event store: ${cartId} has v${event.version} at position ${index + 1}`);
    });
  }
  if (storedIds.size !== all.length) violations.push('event store: an eventId is stored twice');
  const idCounts = new Map<string, number>();
  for (const event of all) idCounts.set(event.eventId, (idCounts.get(event.eventId) ?? 0) + 1);
  for (const { commandId, cartId } of world.commands) {
    const applied = idCounts.get(commandEventId(commandId, 0)) ?? 0;
    if (applied > 1) violations.push(`command ${commandId} on ${cartId} was applied ${applied} times`);
  }

  // Every live read model equals the fold of the event store (read as the read API reads, across generations).
  const folded = foldProjections(all);
  const pointer = await world.pointer.read();
  for (const cartId of world.cartIds) {
    const expected = folded.cartSummaries.get(cartId);
    const generations = readGenerations(generationsOf(pointer, 'cart-summary'));
    const found = generations.map((g) => world.tables.summary(g, cartId)).reduce((best, s) => (s && (!best || s.version > best.version) ? s : best), undefined as ReturnType<World['tables']['summary']>);
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      violations.push(`read model: ${cartId} reads ${found ? `${found.status} v${found.version}` : 'nothing'} but the store folds to ${expected ? `${expected.status} v${expected.version}` : 'nothing'}`);
    }
  }
  const live = world.tables.of(generationsOf(pointer, 'item-popularity').live).popularity.rows;
  const popularity = (rows: ReadonlyMap<string, { sku: string }>) => JSON.stringify([...rows.values()].filter((r) => JSON.stringify(r) !== JSON.stringify({ ...r, ...zeroOf(r) })).sort((a, b) => a.sku.localeCompare(b.sku)));
  if (popularity(live) !== popularity(folded.itemPopularity)) violations.push(`read model: item popularity ${popularity(live)} but the store folds to ${popularity(folded.itemPopularity)}`);

  // During a rebuild (and at any time) a read never answered a lower version than before.
  for (const read of world.backwardReads) violations.push(`read went backwards: ${read}`);

  // The event log holds every stored event at least once; the notifier noticed every closed cart.
  const logged = new Set(world.eventLog.map((e) => e.eventId));
  const unlogged = all.filter((e) => !logged.has(e.eventId));
  if (unlogged.length > 0) violations.push(`event log: ${unlogged.map(describe).join(', ')} never logged`);
  const noticed = new Set(world.notices.map((n) => n.cartId));
  for (const [cartId, events] of stored) {
    if (events.some((e) => e.type === 'CartClosed') && !noticed.has(cartId)) violations.push(`notifier: closed ${cartId} never noticed`);
  }

  // The archive holds every stored event.
  const archived = new Set(world.archive.flat().map((e) => e.eventId));
  const unarchived = all.filter((e) => !archived.has(e.eventId));
  if (unarchived.length > 0) violations.push(`archive: ${unarchived.map(describe).join(', ')} never archived`);

  // Every execution ended, and one that did not succeed says why.
  for (const execution of world.executions) {
    if (execution.status === 'RUNNING') violations.push(`execution ${execution.name} never ended`);
    else if (execution.status !== 'SUCCEEDED' && !execution.reason) violations.push(`execution ${execution.name} ended ${execution.status} without a reason`);
  }
  return violations;
}

/** A popularity row whose counters are all zero is the same as no row (the table may keep or delete it). */
function zeroOf(row: object): object {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v === 'number').map(([k]) => [k, 0]));
}
