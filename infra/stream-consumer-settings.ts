import type { StreamConsumerSettings } from './constructs/stream-consumers';

/** Consumers of the events stream: from the consumer settings registry of lambdas/ (pending). */
export const STREAM_CONSUMERS: readonly (Omit<StreamConsumerSettings, 'function'> & { lambda: string })[] = [];
