import { join } from 'node:path';
import { kinesisClient } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterStore } from '../../adapters/dead-letters/json-lines-dead-letter-store';
import { consumerDeadLetterSource, KINESIS_CONSUMERS, type ConsumerName } from '../../lambdas/consumers';
import { installAwsCallChaos } from '../chaos/aws-call-faults';
import { chaosFromEnvironment } from '../chaos/chaos';
import { localDeadLetterFile, type LocalConfig } from '../config';
import { loadHandler } from '../lambda/invoke';
import type { LocalComponent } from '../process/component';
import { LocalEventSourceMapping } from './event-source-mapping';
import { ShardPositions } from './shard-positions';

export function consumerPositionsFile(config: LocalConfig, name: ConsumerName): string {
  return join(config.dataDir, 'kinesis-consumers', `${name}.json`);
}

/**
 * The Lambda event source mappings of every consumer in lambdas/consumers.ts, in one process: each with its
 * own shard pollers and positions file, invoking its registered handler as AWS would.
 */
export const kinesisConsumers: LocalComponent = {
  name: 'consumers',
  async start(config) {
    const kinesis = kinesisClient();
    const deadLetters = new JsonLinesDeadLetterStore(localDeadLetterFile(config));
    const chaos = chaosFromEnvironment('consumers', config.dataDir);
    // The handlers' clients (not the mapping's own Kinesis reader above, which plays AWS's side).
    installAwsCallChaos(chaos, { stalls: true });
    const mappings = (Object.keys(KINESIS_CONSUMERS) as ConsumerName[]).map(
      (name) =>
        new LocalEventSourceMapping({
          name,
          settings: KINESIS_CONSUMERS[name],
          kinesis,
          streamName: config.resources.eventsStream,
          region: process.env.AWS_REGION ?? 'us-east-1',
          positions: new ShardPositions(consumerPositionsFile(config, name)),
          handler: loadHandler(KINESIS_CONSUMERS[name].lambda),
          deadLetters,
          deadLetterSource: consumerDeadLetterSource(name),
          log: (line) => console.error(`[${name}] ${line}`),
          chaos,
        }),
    );
    await Promise.all(mappings.map((mapping) => mapping.start()));
    return { stop: async () => void (await Promise.all(mappings.map((mapping) => mapping.stop()))) };
  },
};
