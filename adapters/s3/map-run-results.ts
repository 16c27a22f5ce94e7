import { z } from 'zod';
import type { ArchiveObjects } from '../../application/replay-ports';

/**
 * Reads what a Distributed Map's ResultWriter exported to S3: `manifest.json` names the result files by child
 * status, and each file is a JSON array of child execution records whose `Output` is the child's output as a
 * JSON string (failed children carry `Error` and `Cause`). Returns the children's outputs, and a failure record
 * for each child that failed.
 */
const Manifest = z.object({
  ResultFiles: z.record(z.string(), z.array(z.object({ Key: z.string() }))),
});
const ChildRecord = z.object({
  Status: z.string().optional(),
  Input: z.string().optional(),
  Output: z.string().optional(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
});

export const ResultWriterDetails = z.object({
  ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }),
});

export async function readMapRunResults(results: ArchiveObjects, manifestKey: string): Promise<unknown[]> {
  const manifestText = await results.read(manifestKey);
  if (manifestText === undefined) throw new Error(`the Map Run's result manifest ${manifestKey} does not exist`);
  const manifest = Manifest.parse(JSON.parse(manifestText));
  const outputs: unknown[] = [];
  for (const [status, files] of Object.entries(manifest.ResultFiles)) {
    for (const file of files) {
      const text = await results.read(file.Key);
      if (text === undefined) throw new Error(`the Map Run's result file ${file.Key} does not exist`);
      for (const record of z.array(ChildRecord).parse(JSON.parse(text))) {
        if (status === 'SUCCEEDED' && record.Output !== undefined) outputs.push(JSON.parse(record.Output));
        else outputs.push({ failed: true, key: keyOf(record.Input), error: record.Error ?? status, cause: record.Cause ?? `child ${status}` });
      }
    }
  }
  return outputs;
}

function keyOf(input: string | undefined): string | undefined {
  try {
    const key = (JSON.parse(input ?? '{}') as { key?: unknown }).key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
