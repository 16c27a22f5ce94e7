import { resolve } from 'node:path';
import { ENV } from '../lambdas/environment';

export const LOCAL_HOST = '127.0.0.1';

export interface LocalPorts {
  readonly api: number;
  readonly dynamodb: number;
  readonly kinesis: number;
  readonly s3: number;
  readonly stepfunctions: number;
}

/** Every public port and its overriding environment variable: see the table in docs/local-stack.md. */
export const PORT_VARIABLES: Record<keyof LocalPorts, { variable: string; default: number }> = {
  api: { variable: 'API_PORT', default: 3000 },
  dynamodb: { variable: 'DYNAMODB_PORT', default: 8000 },
  kinesis: { variable: 'KINESIS_PORT', default: 4567 },
  s3: { variable: 'S3_PORT', default: 4568 },
  stepfunctions: { variable: 'STEPFUNCTIONS_PORT', default: 8083 },
};

export const LOCAL_RESOURCE_NAMES = {
  eventStoreTable: 'cart-events',
  idempotencyTable: 'cart-idempotency',
  eventsStream: 'cart-events',
  cartSummaryTable: 'cart-summary',
  itemPopularityTable: 'item-popularity',
  consumerPositionsTable: 'consumer-positions',
  archiveBucket: 'cart-events-archive',
} as const;

export interface LocalConfig {
  readonly ports: LocalPorts;
  readonly dataDir: string;
  readonly resources: typeof LOCAL_RESOURCE_NAMES;
}

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const ports = Object.fromEntries(
    Object.entries(PORT_VARIABLES).map(([key, { variable, default: fallback }]) => [key, parsePort(variable, env[variable], fallback)]),
  ) as unknown as LocalPorts;
  return {
    ports,
    dataDir: resolve(env.LOCAL_DATA_DIR ?? '.local/data'),
    resources: LOCAL_RESOURCE_NAMES,
  };
}

function parsePort(variable: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${variable} must be a TCP port (1-65535), got "${raw}"`);
  return port;
}

/** The port variables as a child process must see them, so that every process agrees on the ports. */
export function portEnvironment(config: LocalConfig): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(PORT_VARIABLES) as (keyof LocalPorts)[]).map((key) => [PORT_VARIABLES[key].variable, String(config.ports[key])]),
  );
}

export function endpointOf(port: number): string {
  return `http://${LOCAL_HOST}:${port}`;
}

/**
 * What the handlers see locally: the SDK's service endpoints pointed at the emulators, the resource names, and
 * credentials that every emulator accepts (s3rver insists on S3RVER/S3RVER).
 */
export function handlerEnvironment(config: LocalConfig): Record<string, string> {
  const { ports, resources } = config;
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_DYNAMODB: endpointOf(ports.dynamodb),
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpointOf(ports.dynamodb),
    AWS_ENDPOINT_URL_KINESIS: endpointOf(ports.kinesis),
    AWS_ENDPOINT_URL_S3: endpointOf(ports.s3),
    AWS_ENDPOINT_URL_SFN: endpointOf(ports.stepfunctions),
    POWERTOOLS_SERVICE_NAME: 'cart',
    POWERTOOLS_METRICS_NAMESPACE: 'CdcCart',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    [ENV.eventStoreTable]: resources.eventStoreTable,
    [ENV.idempotencyTable]: resources.idempotencyTable,
    [ENV.eventsStream]: resources.eventsStream,
    [ENV.cartSummaryTable]: resources.cartSummaryTable,
    [ENV.itemPopularityTable]: resources.itemPopularityTable,
    [ENV.consumerPositionsTable]: resources.consumerPositionsTable,
    [ENV.archiveBucket]: resources.archiveBucket,
    [ENV.storeLayout]: 'event-per-item',
    [ENV.localDeadLetterFile]: localDeadLetterFile(config),
  };
}

/** The local stand-in for every dead-letter queue (CDC Pipe, consumers): JSON Lines, listed by `npm run dead-letters`. */
export function localDeadLetterFile(config: LocalConfig): string {
  return resolve(config.dataDir, 'dead-letters.jsonl');
}
