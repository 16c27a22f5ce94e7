import type { LambdaName } from '../lambdas/registry';

/**
 * The state machines of statemachines/*.asl.json and what their `${...}` placeholders stand for. CDK
 * (definitionSubstitutions) and the local Step Functions endpoint both fill them from this one table: a Lambda
 * placeholder becomes that registered function's ARN, a bucket placeholder the named resource.
 *
 * Task states call functions by ARN (`"Resource": "${...FunctionArn}"`, not `arn:aws:states:::lambda:invoke`),
 * so a step's result is the function's own return value on AWS as in the local runner, with no {Payload} wrapper.
 */
export const STATE_MACHINES = {
  replay: {
    definitionFile: 'statemachines/replay.asl.json',
    description: 'Replays archived events into the projections or onto the stream',
    functions: {
      ReplayPlanFunctionArn: 'replayPlan',
      ReplayGenerationsFunctionArn: 'replayGenerations',
      ReplayObjectFunctionArn: 'replayObject',
      ReplaySummaryFunctionArn: 'replaySummary',
    },
    buckets: { ArchiveBucket: 'archiveBucket' },
  },
  backfill: {
    definitionFile: 'statemachines/backfill.asl.json',
    description: 'Writes every event of the event store that the archive lacks into the archive',
    functions: {
      BackfillPlanFunctionArn: 'backfillPlan',
      BackfillSegmentFunctionArn: 'backfillSegment',
      BackfillSummaryFunctionArn: 'backfillSummary',
    },
    buckets: {},
  },
} as const satisfies Record<
  string,
  { definitionFile: string; description: string; functions: Record<string, LambdaName>; buckets: Record<string, 'archiveBucket'> }
>;

export type StateMachineName = keyof typeof STATE_MACHINES;

/**
 * Service integrations (`arn:${Partition}:states:::s3:listObjectsV2`) name the partition through this placeholder,
 * never a literal `arn:aws:`: CDK fills it with the deployment's partition (aws, aws-cn, aws-us-gov), the local
 * runner with `aws`.
 */
export const PARTITION_PLACEHOLDER = 'Partition';

/**
 * Where the replay's Distributed Map writes its ResultWriter export (statemachines/replay.asl.json) in the archive
 * bucket, and how long the export is kept: the summary step reads it minutes after it is written, and nothing
 * reads it later. On AWS a lifecycle rule of the archive bucket expires it (infra/constructs/event-archive.ts);
 * locally the Step Functions endpoint deletes older exports before it writes a new one.
 */
export const REPLAY_RESULTS = { prefix: 'replay-results', expireAfterDays: 7 } as const;

/** Fills `${Name}` placeholders; a placeholder without a value is an error, not an empty string. */
export function substitute(definition: string, values: Record<string, string>): string {
  return definition.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the definition placeholder \${${name}}`);
    return value;
  });
}
