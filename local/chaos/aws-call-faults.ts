import { setTimeout as sleep } from 'node:timers/promises';
import { installAwsCallFaultInjector, type AwsHttpRequest, type LostAnswer } from '../../adapters/aws-call-faults';
import type { Chaos } from './chaos';

/**
 * The longest a `stall` holds a call. Bounded well below every caller's timeout (a consumer's or a replay step's
 * Lambda: 30 s; the SDK's request timeout only starts once the call is sent), so a stall delays, it never times out.
 */
export const MAX_STALL_MS = 3_000;

/** DynamoDB and Kinesis name the operation in X-Amz-Target (`DynamoDB_20120810.PutItem`, `Kinesis_20131202.PutRecords`). */
const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems', 'PutRecord', 'PutRecords']);

/** A call that changes something: DynamoDB's and Kinesis's write operations; S3's PUT, POST and DELETE. */
export function isWrite(service: string, request: AwsHttpRequest): boolean {
  if (service === 's3') return ['PUT', 'POST', 'DELETE'].includes(request.method.toUpperCase());
  const target = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'x-amz-target')?.[1] ?? '';
  return WRITE_OPERATIONS.has(target.split('.').pop() ?? '');
}

/**
 * Installs the `ambiguous-write` fault (and, with `stalls`, the `stall` fault) for every AWS client this process
 * creates from now on (adapters/aws-clients.ts). Call it in a component's start, after the stand-in's own clients
 * (which play AWS's side) and before the project's handlers are loaded.
 *
 * DynamoDB: "If you receive a 5xx or a timeout, the request might have succeeded"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html); Kinesis PutRecords and
 * S3 PUT likewise give no answer for a write that may have been applied. Half the lost answers are 500s, half
 * timeouts, both retried by the SDK's standard retry strategy.
 */
export function installAwsCallChaos(chaos: Chaos, options: { readonly stalls: boolean }): void {
  if (!chaos.enabled) return;
  installAwsCallFaultInjector({
    async beforeSend() {
      if (options.stalls && chaos.happens('stall')) await sleep(500 + chaos.pick(MAX_STALL_MS - 500));
    },
    afterAnswer(service, request): LostAnswer | undefined {
      if (!isWrite(service, request) || !chaos.happens('ambiguous-write')) return undefined;
      return chaos.pick(2) === 0 ? 'server-error' : 'timeout';
    },
  });
}
