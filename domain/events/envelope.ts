import { z } from 'zod';

/**
 * The one shape every stored, streamed, archived and replayed event has. Kinesis record Data is this object
 * as UTF-8 JSON; an archive line is this object as one JSON line.
 */
export const EventEnvelope = z.object({
  eventId: z.string().min(1),
  aggregateType: z.string().min(1),
  aggregateId: z.string().min(1),
  version: z.number().int().positive(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
  metadata: z
    .object({
      /** SequenceNumber of the DynamoDB stream record the event was split from. */
      sequenceNumber: z.string().optional(),
      /** Set when a replay republishes archived history: side-effecting consumers ignore such events. */
      replayed: z.boolean().optional(),
    })
    .catchall(z.unknown())
    .optional(),
});

export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const CART_AGGREGATE_TYPE = 'Cart';
