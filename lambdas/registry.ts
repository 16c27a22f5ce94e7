/**
 * Every Lambda function of the system, by name: its source file and exported handler. CDK deploys exactly
 * these (infra/), and the local stack invokes exactly these (local/), so the two cannot drift apart.
 */
export const LAMBDAS = {
  cartApi: {
    entry: 'lambdas/cart-api/handler.ts',
    handler: 'handler',
    description: 'Cart HTTP API: commands on the event store, and cart reads',
  },
  cdcEnrichment: {
    entry: 'lambdas/cdc-enrichment/handler.ts',
    handler: 'handler',
    description: 'CDC Pipe enrichment: splits DynamoDB stream records into one event envelope per added event',
  },
  eventLog: {
    entry: 'lambdas/event-log/handler.ts',
    handler: 'handler',
    description: 'Kinesis consumer: one structured JSON log line per cart event',
  },
  projections: {
    entry: 'lambdas/projections/handler.ts',
    handler: 'handler',
    description: 'Kinesis consumer: applies cart events to the cart-summary and item-popularity projections',
  },
  readApi: {
    entry: 'lambdas/read-api/handler.ts',
    handler: 'handler',
    description: 'Read API: GET /read/carts/{cartId} and GET /read/items/top from the projections',
  },
  replayPlan: {
    entry: 'lambdas/replay-steps/handler.ts',
    handler: 'plan',
    description: 'Replay state machine: validates the input and turns the window into the archive prefix to list',
  },
  replayGenerations: {
    entry: 'lambdas/replay-steps/handler.ts',
    handler: 'generations',
    description: 'Replay state machine: the blue/green steps of a rebuild (prepare, catch up, switch, retire, abandon a generation)',
  },
  replayObject: {
    entry: 'lambdas/replay-steps/handler.ts',
    handler: 'object',
    description: 'Replay state machine: replays one archive object into the projections or onto the stream',
  },
  replaySummary: {
    entry: 'lambdas/replay-steps/handler.ts',
    handler: 'summary',
    description: 'Replay state machine: adds up the Map Run results into the output or a failure report',
  },
  backfillPlan: {
    entry: 'lambdas/backfill-steps/handler.ts',
    handler: 'plan',
    description: 'Backfill state machine: validates the input and brings the archive index up to date',
  },
  backfillSegment: {
    entry: 'lambdas/backfill-steps/handler.ts',
    handler: 'segment',
    description: 'Backfill state machine: scans one segment of the event store and archives the events missing there',
  },
  backfillSummary: {
    entry: 'lambdas/backfill-steps/handler.ts',
    handler: 'summary',
    description: 'Backfill state machine: adds up the segments into the output or a failure report',
  },
  canary: {
    entry: 'lambdas/canary/handler.ts',
    handler: 'handler',
    description: 'Pipeline canary: sends a probe cart through every hop on a schedule (cdc-cart verify) and emits CanaryHopFailed per hop',
  },
} as const satisfies Record<string, { entry: string; handler: string; description: string }>;

export type LambdaName = keyof typeof LAMBDAS;
