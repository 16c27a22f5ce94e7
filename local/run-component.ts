import { loadLocalConfig } from './config';
import { COMPONENTS, isComponentName } from './components';
import { clearHeartbeat, HEARTBEAT_INTERVAL_MS, writeHeartbeat } from './process/heartbeat';

/** Runs one local component in this process: `node --import tsx local/run-component.ts <name>`. */
async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  if (!isComponentName(name)) {
    console.error(`unknown component "${name}"; known: ${Object.keys(COMPONENTS).join(', ')}`);
    process.exit(2);
  }
  const config = loadLocalConfig();
  const component = await COMPONENTS[name].load();
  const running = await component.start(config);

  const beat = () => writeHeartbeat(config.dataDir, { name, pid: process.pid, at: Date.now(), node: process.versions.node });
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  process.send?.({ type: 'ready', name });

  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    clearHeartbeat(config.dataDir, name);
    try {
      await running.stop();
      process.exit(0);
    } catch (error) {
      console.error(`failed to stop cleanly after ${reason}:`, error);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // The supervisor is gone (even kill -9): do not linger as an orphan holding ports.
  process.on('disconnect', () => void shutdown('supervisor exit'));
}

main().catch((error) => {
  console.error('failed to start:', error);
  process.exit(1);
});
