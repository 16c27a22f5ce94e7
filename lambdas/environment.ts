/**
 * Names of the environment variables through which every handler learns its resources. CDK sets them from the
 * constructs; the local stack sets them from local/config.ts. Reading them in one place keeps the two in step.
 */
export const ENV = {
  eventStoreTable: 'EVENT_STORE_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  eventsStream: 'EVENTS_STREAM_NAME',
  cartSummaryTable: 'CART_SUMMARY_TABLE',
  itemPopularityTable: 'ITEM_POPULARITY_TABLE',
  archiveBucket: 'ARCHIVE_BUCKET',
  storeLayout: 'CDC_STORE_LAYOUT',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

export function requireEnv(name: EnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
