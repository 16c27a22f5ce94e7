import type { LocalComponent } from './process/component';

/**
 * The one place that lists the local stack's Node.js components, in start order within their phase.
 * Emulators start first; services start once the tables, stream and bucket exist.
 */
export const COMPONENTS = {
  dynamodb: { phase: 'emulator', load: async () => (await import('./emulators/dynamodb-local')).dynamoDbEmulator },
  kinesis: { phase: 'emulator', load: async () => (await import('./emulators/kinesalite')).kinesisEmulator },
  s3: { phase: 'emulator', load: async () => (await import('./emulators/s3rver')).s3Emulator },
  api: { phase: 'service', load: async () => (await import('./api/server')).apiServer },
  pipe: { phase: 'service', load: async () => (await import('./pipe/component')).localPipeComponent },
  consumers: { phase: 'service', load: async () => (await import('./kinesis-consumer/component')).kinesisConsumers },
  archiver: { phase: 'service', load: async () => (await import('./archiver/component')).archiverComponent },
  stepfunctions: { phase: 'service', load: async () => (await import('./stepfunctions/server')).stepFunctionsEndpoint },
  canary: { phase: 'service', load: async () => (await import('./canary/component')).canaryComponent },
} as const satisfies Record<string, { phase: 'emulator' | 'service'; load: () => Promise<LocalComponent> }>;

export type ComponentName = keyof typeof COMPONENTS;

export function isComponentName(name: string): name is ComponentName {
  return Object.hasOwn(COMPONENTS, name);
}

/** Components whose heartbeat /health requires (DynamoDB Local is probed directly). */
export function serviceComponents(): ComponentName[] {
  return (Object.keys(COMPONENTS) as ComponentName[]).filter((name) => COMPONENTS[name].phase === 'service');
}
