import { MissingHistoryError, ProjectionContentionError } from '../../application/projections';
import { ArchiveObjectMissing } from '../../application/replay';
import { Throttled } from '../../application/replay-ports';
import { CartRuleViolation } from '../../domain/cart/decide';
import { UnknownEventError } from '../../domain/cart/events';
import { VersionConflict } from '../../application/event-store';
import { UnprocessableStreamRecord } from '../../domain/cdc';
import { GenerationConflict } from '../../domain/projections';

/**
 * The errors each step of statemachines/replay.asl.json throws on purpose, by handler export. The state machine
 * names each of them in a Retry or a Catch of the step, and names nothing else
 * (statemachines/task-errors.unit.test.ts checks both, and that every error class the handlers' code can reach is
 * listed here or below).
 */
export const ERRORS_THROWN = {
  plan: [],
  /**
   * The blue/green steps. GenerationConflict: the pointer says something else than the step expects (a previous
   * generation not yet retired, another rebuild took the generation over): not retried, caught. The catch-up
   * applies events like a replayed object, with the same errors.
   */
  generations: [Throttled, ProjectionContentionError, GenerationConflict, MissingHistoryError, UnknownEventError],
  /**
   * ProjectionContentionError: a live consumer kept winning the same cart; retried. MissingHistoryError: an
   * archived event skips versions the event store lacks too. UnknownEventError: a catch-up read an event from the
   * store that no schema accepts (the CDC refused it). ArchiveObjectMissing: the object vanished after the listing.
   * The last three fail the object on purpose (caught into a failure record): retrying cannot mend them.
   */
  object: [Throttled, ProjectionContentionError, MissingHistoryError, UnknownEventError, ArchiveObjectMissing],
  summary: [Throttled],
} as const;

/** Error classes the handlers' code can reach that none of the replay steps throws, and why. */
export const ERRORS_NOT_THROWN = new Map<abstract new (...args: never[]) => Error, string>([
  [UnprocessableStreamRecord, 'thrown while splitting DynamoDB stream records, which the replay never reads'],
  [VersionConflict, 'thrown by an append to the event store; the replay only reads it'],
  [CartRuleViolation, 'thrown when a command breaks a cart rule; the replay runs no commands'],
]);
