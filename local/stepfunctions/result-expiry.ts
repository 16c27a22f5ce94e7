import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * s3rver has no lifecycle rules: the local endpoint does what the archive bucket's rule does on AWS
 * (infra/constructs/event-archive.ts, `expire-replay-results`) before it writes a new ResultWriter export, so
 * that `replay-results/` does not grow forever on a long-lived local stack. Returns how many objects it deleted.
 */
export async function expireOldResults(s3: Pick<S3Client, 'send'>, bucket: string, prefix: string, expireAfterDays: number, nowMs = Date.now()): Promise<number> {
  const cutoff = nowMs - expireAfterDays * DAY_MS;
  const old: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix.replace(/\/$/, '')}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key && object.LastModified && object.LastModified.getTime() < cutoff) old.push(object.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (let i = 0; i < old.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: old.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
  }
  return old.length;
}
