import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expireOldResults } from './result-expiry';

/** A bucket in memory that answers the two calls the expiry makes, two keys per listing page. */
function bucketOf(objects: Record<string, number>) {
  const stored = new Map(Object.entries(objects));
  const send = async (command: unknown): Promise<any> => {
    if (command instanceof ListObjectsV2Command) {
      const keys = [...stored.keys()].filter((key) => key.startsWith(command.input.Prefix ?? '')).sort();
      const start = Number(command.input.ContinuationToken ?? 0);
      const page = keys.slice(start, start + 2);
      return {
        Contents: page.map((Key) => ({ Key, LastModified: new Date(stored.get(Key)!) })),
        IsTruncated: start + 2 < keys.length,
        NextContinuationToken: String(start + 2),
      };
    }
    if (command instanceof DeleteObjectsCommand) {
      for (const { Key } of command.input.Delete!.Objects!) stored.delete(Key!);
      return {};
    }
    throw new Error('unexpected command');
  };
  return { stored, client: { send } as never };
}

describe('expireOldResults (the local stand-in for the replay-results lifecycle rule)', () => {
  it('deletes result objects older than the expiry, on every listing page, and nothing else', async () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    const day = 86_400_000;
    const { stored, client } = bucketOf({
      'replay-results/old-run/manifest.json': now - 8 * day,
      'replay-results/old-run/SUCCEEDED_0.json': now - 8 * day,
      'replay-results/other-old/manifest.json': now - 30 * day,
      'replay-results/recent/manifest.json': now - 6 * day,
      'events/2025/01/01/00/old.jsonl': now - 400 * day,
      'replay-rejects/old/events/x.jsonl': now - 400 * day,
    });
    expect(await expireOldResults(client, 'archive', 'replay-results', 7, now)).toBe(3);
    expect([...stored.keys()].sort()).toEqual(['events/2025/01/01/00/old.jsonl', 'replay-rejects/old/events/x.jsonl', 'replay-results/recent/manifest.json']);
  });
});
