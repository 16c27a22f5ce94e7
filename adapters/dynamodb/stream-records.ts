import { DynamoDBStreamChangeRecordBase, DynamoDBStreamRecord } from '@aws-lambda-powertools/parser/schemas/dynamodb';
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { UnprocessableStreamRecord, type StreamChange } from '../../domain/cdc';

/**
 * A DynamoDB stream record as Lambda and EventBridge Pipes hand it over (images still in DynamoDB JSON).
 * Powertools' schema checks the envelope fields; the images are unmarshalled here rather than by its transform,
 * because DynamoDB Local writes an empty map as `{}` instead of `{"M":{}}`, which no unmarshaller accepts.
 */
const MarshalledStreamRecord = DynamoDBStreamRecord.extend({ dynamodb: DynamoDBStreamChangeRecordBase });

export type MarshalledStreamRecord = z.infer<typeof MarshalledStreamRecord>;

/**
 * Validates one raw stream record and unmarshalls its keys and images. Throws UnprocessableStreamRecord naming
 * the record (eventID, Keys as far as they can be read) when it cannot.
 */
export function toStreamChange(raw: unknown): StreamChange {
  const parsed = MarshalledStreamRecord.safeParse(raw);
  if (!parsed.success) {
    const { recordId, keys } = identify(raw);
    throw new UnprocessableStreamRecord('malformed-record', recordId, keys, `not a DynamoDB stream record: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  }
  const record = parsed.data;
  const { dynamodb } = record;
  const keys = unmarshallImage(record.eventID, dynamodb.Keys, 'Keys', dynamodb.Keys);
  return {
    recordId: record.eventID,
    eventName: record.eventName,
    keys,
    sequenceNumber: dynamodb.SequenceNumber,
    approximateCreationDateTime: dynamodb.ApproximateCreationDateTime,
    oldImage: dynamodb.OldImage ? unmarshallImage(record.eventID, dynamodb.Keys, 'OldImage', dynamodb.OldImage) : undefined,
    newImage: dynamodb.NewImage ? unmarshallImage(record.eventID, dynamodb.Keys, 'NewImage', dynamodb.NewImage) : undefined,
  };
}

function unmarshallImage(recordId: string, keys: unknown, name: string, image: Record<string, unknown>): Record<string, NativeAttributeValue> {
  try {
    return unmarshall(withEmptyMapsRepaired(image as Record<string, AttributeValue>));
  } catch (error) {
    throw new UnprocessableStreamRecord('malformed-record', recordId, keys, `${name} cannot be unmarshalled: ${(error as Error).message}`);
  }
}

/**
 * Returns the image with every `{}` attribute value (DynamoDB Local's empty map) replaced by `{"M":{}}`. Copies
 * only along the paths where it finds one, so an image from AWS is returned as is, without copying.
 */
export function withEmptyMapsRepaired(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  let copy: Record<string, AttributeValue> | undefined;
  for (const name in image) {
    const value = image[name]!;
    const repaired = repairValue(value);
    if (repaired !== value) (copy ??= { ...image })[name] = repaired;
  }
  return copy ?? image;
}

function repairValue(value: AttributeValue): AttributeValue {
  if (typeof value !== 'object' || value === null) return value;
  if (value.M !== undefined) {
    const map = withEmptyMapsRepaired(value.M);
    return map === value.M ? value : { M: map };
  }
  if (value.L !== undefined) {
    let list: AttributeValue[] | undefined;
    value.L.forEach((element, index) => {
      const repaired = repairValue(element);
      if (repaired !== element) (list ??= [...value.L!])[index] = repaired;
    });
    return list ? { L: list } : value;
  }
  for (const _ in value) return value;
  return { M: {} };
}

function identify(raw: unknown): { recordId: string; keys: unknown } {
  const record = (typeof raw === 'object' && raw !== null ? raw : {}) as { eventID?: unknown; dynamodb?: { Keys?: unknown } };
  return {
    recordId: typeof record.eventID === 'string' ? record.eventID : '(no eventID)',
    keys: record.dynamodb && typeof record.dynamodb === 'object' ? record.dynamodb.Keys : undefined,
  };
}
