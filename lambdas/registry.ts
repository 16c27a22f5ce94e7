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
} as const satisfies Record<string, { entry: string; handler: string; description: string }>;

export type LambdaName = keyof typeof LAMBDAS;
