import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { EventEnvelope } from '../../domain/events/envelope';
import type { Chaos } from '../chaos/chaos';

export interface TargetResult {
  /** Records of the call that Kinesis did not store. */
  readonly refused: number;
  readonly reason?: string;
}

/** The Pipe's target: takes the enrichment's whole response (one array) and says how much of it was refused. */
export type PipeTarget = (envelopes: readonly EventEnvelope[], signal: AbortSignal) => Promise<TargetResult>;

/**
 * The Pipe's Kinesis target as Pipes invokes it: ONE PutRecords for the enrichment's response, one record per
 * element, PartitionKey evaluated per element ($.aggregateId), Data the element's JSON. PutRecords can refuse
 * any record of the call on its own (Kinesis API reference, PutRecords: "a partially successful response"),
 * records of one partition key included, so a cart's later record can be stored while an earlier one is not.
 * With the chaos fault `kinesis-partial-failure`, a random part of the call is refused that way.
 */
export function kinesisTarget(kinesis: KinesisClient, streamName: string, chaos: Chaos): PipeTarget {
  return async (envelopes, signal) => {
    if (envelopes.length === 0) return { refused: 0 };
    const entries = envelopes.map((envelope) => ({ Data: Buffer.from(JSON.stringify(envelope), 'utf8'), PartitionKey: envelope.aggregateId }));
    let refusedByChaos = new Set<number>();
    if (chaos.happens('kinesis-partial-failure')) {
      const count = 1 + chaos.pick(Math.max(1, Math.ceil(entries.length / 2)));
      while (refusedByChaos.size < Math.min(count, entries.length)) refusedByChaos.add(chaos.pick(entries.length));
      if (refusedByChaos.size === entries.length && entries.length > 1) refusedByChaos = new Set([...refusedByChaos].slice(1));
    }
    const sent = entries.filter((_, index) => !refusedByChaos.has(index));
    let refused = refusedByChaos.size;
    let reason = refused > 0 ? 'ProvisionedThroughputExceededException: Rate exceeded for shard (chaos: kinesis-partial-failure)' : undefined;
    if (sent.length > 0) {
      try {
        const result = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: sent }), { abortSignal: signal });
        const failed = (result.Records ?? []).filter((record) => record.ErrorCode || !record.SequenceNumber);
        refused += failed.length + Math.max(0, sent.length - (result.Records ?? []).length);
        if (failed[0]) reason = `${failed[0].ErrorCode}: ${failed[0].ErrorMessage ?? ''}`.trim();
      } catch (error) {
        if (signal.aborted) throw error;
        return { refused: envelopes.length, reason: `${(error as Error).name}: ${(error as Error).message}` };
      }
    }
    return { refused, ...(reason ? { reason } : {}) };
  };
}
