import type { BenchEntry } from '../harness';
import { appendCost } from './append-cost';
import { castorePeer } from './castore-peer';
import { consumersBench } from './consumers';
import { consumerParallelization } from './consumer-parallelization';
import { cdcEndToEnd } from './cdc-end-to-end';
import { cdcEnrichment } from './cdc-enrichment';
import { rebuildAvailability } from './rebuild';
import { replayThroughput } from './replay';

/**
 * Every benchmark entry, in run order. To add one: write a module exporting a BenchEntry (see bench/harness.ts)
 * and add ONE line here.
 */
export const ENTRIES: readonly BenchEntry[] = [
  appendCost,
  castorePeer,
  cdcEnrichment,
  cdcEndToEnd,
  replayThroughput,
  rebuildAvailability,
  consumersBench,
  consumerParallelization,
];
