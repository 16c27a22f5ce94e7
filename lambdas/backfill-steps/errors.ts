import { VersionConflict } from '../../application/event-store';
import { ArchiveObjectMissing } from '../../application/replay';
import { Throttled } from '../../application/replay-ports';
import { UnknownEventError } from '../../domain/cart/events';
import { UnprocessableStreamRecord } from '../../domain/cdc';

/**
 * The errors each step of statemachines/backfill.asl.json throws on purpose, by handler export. The state
 * machine names each of them in a Retry or a Catch of the step, and names nothing else
 * (statemachines/task-errors.unit.test.ts checks both, and that every error class the handlers' code can reach is
 * listed here or below).
 */
export const ERRORS_THROWN = {
  plan: [Throttled],
  segment: [Throttled],
  summary: [],
} as const;

/** Error classes the handlers' code can reach that none of the backfill steps throws, and why. */
export const ERRORS_NOT_THROWN = new Map<abstract new (...args: never[]) => Error, string>([
  [ArchiveObjectMissing, "thrown by the replay's object step; the backfill reads archive objects that vanish as absent"],
  [UnknownEventError, 'caught inside checkPublishableEvent: an event the CDC refuses is counted and reported, never thrown'],
  [UnprocessableStreamRecord, 'thrown while splitting DynamoDB stream records, which the backfill never reads'],
  [VersionConflict, 'thrown by an append to the event store; the backfill only scans it'],
]);
