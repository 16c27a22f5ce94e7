import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArchiveObjectInfo, ArchiveObjects } from '../../application/replay-ports';
import { throttledAs } from '../throttling';

/** The archive bucket as replay and backfill read and write it (JSON Lines objects, the index). */
export class S3ArchiveObjects implements ArchiveObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async *list(prefix: string): AsyncIterable<ArchiveObjectInfo> {
    let token: string | undefined;
    do {
      const page = await throttledAs('list archive', () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, etag: object.ETag ?? '', size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string): Promise<string | undefined> {
    try {
      const object = await throttledAs(`read ${key}`, () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async write(key: string, body: string): Promise<void> {
    await throttledAs(`write ${key}`, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: key.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/json',
        }),
      ),
    );
  }
}
