import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ArchiveObjects } from '../adapters/s3/replay-archive';
import { BAD_LINE_REASONS, REPLAY_REJECTS_PREFIX, rejectsPrefixOf, type BadLine } from '../application/replay-lines';
import { endpointOf, loadLocalConfig } from '../local/config';
import { UsageError } from './replay-run';

const USAGE = `usage: npm run replay-rejects -- [--execution NAME] [--reason REASON] [--json] [--aws --bucket NAME]

Lists the archive lines a replay set aside instead of replaying (s3://<archive bucket>/replay-rejects/<execution>/).
  --execution NAME   one replay execution (default: every execution that set lines aside)
  --reason REASON    only one reason: ${BAD_LINE_REASONS.join(', ')}
  --json             the lines as stored, one JSON object per line (the archived text included)
  --aws              the archive bucket on AWS (credentials and region from the usual chain); needs --bucket
  --bucket NAME      the archive bucket (default: the local stack's, or ARCHIVE_BUCKET)
  --region REGION    AWS region (default: AWS_REGION)
  -h, --help         this text`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      execution: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      aws: { type: 'boolean' },
      bucket: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.reason !== undefined && !(BAD_LINE_REASONS as readonly string[]).includes(values.reason)) {
    throw new UsageError(`--reason must be one of ${BAD_LINE_REASONS.join(', ')}, got "${values.reason}"`);
  }
  const bucket = values.bucket ?? process.env.ARCHIVE_BUCKET ?? (values.aws ? undefined : loadLocalConfig().resources.archiveBucket);
  if (!bucket) throw new UsageError('--aws needs --bucket NAME (the archive bucket, e.g. from the stack outputs) or ARCHIVE_BUCKET');
  const archive = new S3ArchiveObjects(values.aws ? new S3Client(values.region ? { region: values.region } : {}) : localS3(), bucket);
  const prefix = values.execution ? rejectsPrefixOf(values.execution) : REPLAY_REJECTS_PREFIX;

  let lines = 0;
  let objects = 0;
  for await (const object of archive.list(prefix)) {
    objects += 1;
    const execution = object.key.slice(REPLAY_REJECTS_PREFIX.length).split('/')[0];
    for (const row of ((await archive.read(object.key)) ?? '').split('\n')) {
      if (row.trim() === '') continue;
      const bad = JSON.parse(row) as BadLine;
      if (values.reason !== undefined && bad.reason !== values.reason) continue;
      lines += 1;
      if (values.json) console.log(JSON.stringify({ execution, ...bad }));
      else console.log(`${execution}  ${bad.key}:${bad.line}  ${bad.reason}${bad.eventId ? ` ${bad.eventId}` : ''}\n    ${bad.detail.slice(0, 300)}`);
    }
  }
  if (!values.json) {
    const where = `s3://${bucket}/${prefix}`;
    console.log(lines === 0 ? `no bad lines${values.reason ? ` of reason ${values.reason}` : ''} set aside under ${where}` : `\n${lines} bad line(s) in ${objects} object(s) under ${where}; --json shows them whole`);
  }
  return 0;
}

function localS3(): S3Client {
  return new S3Client({
    endpoint: endpointOf(loadLocalConfig().ports.s3),
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${error.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`error: ${error.name}: ${error.message}`);
    process.exit(1);
  },
);
