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
} as const satisfies Record<string, { entry: string; handler: string; description: string }>;

export type LambdaName = keyof typeof LAMBDAS;
