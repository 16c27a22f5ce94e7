import { join } from 'node:path';
import { dynamoDbClient, dynamoDbStreamsClient, kinesisClient } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterStore } from '../../adapters/dead-letters/json-lines-dead-letter-store';
import { parseStoreLayout } from '../../domain/cdc/store-layout';
import type { EventEnvelope } from '../../domain/events/envelope';
import { cdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { ENV } from '../../lambdas/environment';
import { chaosFromEnvironment } from '../chaos/chaos';
import { localDeadLetterFile, type LocalConfig } from '../config';
import { invokeLocal, loadHandler } from '../lambda/invoke';
import type { LocalComponent } from '../process/component';
import { kinesisTarget } from './kinesis-target';
import { LocalPipe } from './local-pipe';
import { PositionStore } from './positions';
import { streamArnOf } from './stream-source';

export function pipePositionsFile(config: LocalConfig): string {
  return join(config.dataDir, 'pipe', 'positions.json');
}

/** `pipe` in `npm start`: the CDC Pipe from the event store's stream through the enrichment Lambda to Kinesis. */
export const localPipeComponent: LocalComponent = {
  name: 'pipe',
  async start(config) {
    const settings = cdcPipeSettings(parseStoreLayout(process.env[ENV.storeLayout]));
    const streamArn = await streamArnOf(dynamoDbClient(), config.resources.eventStoreTable);
    const handler = loadHandler('cdcEnrichment');
    const chaos = chaosFromEnvironment('pipe', config.dataDir);
    const pipe = new LocalPipe({
      streams: dynamoDbStreamsClient(),
      streamArn,
      settings,
      enrich: (records) => invokeLocal<EventEnvelope[]>('cdcEnrichment', records, handler),
      target: kinesisTarget(kinesisClient(), config.resources.eventsStream, chaos),
      deadLetters: new JsonLinesDeadLetterStore(localDeadLetterFile(config)),
      positions: new PositionStore(pipePositionsFile(config)),
      // Everything the Pipe runner reports needs attention (failures, dead letters): stderr, shown by npm start.
      log: (line) => console.error(line),
      chaos,
    });
    pipe.start();
    return { stop: () => pipe.stop() };
  },
};
