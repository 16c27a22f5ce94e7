import type { LocalConfig } from '../config';

export interface RunningComponent {
  /** Stops taking work, finishes or hands back what is in flight, and releases its ports and files. */
  stop(): Promise<void>;
}

/**
 * A piece of the local stack that runs in its own Node.js process (see local/run-component.ts), so that it can
 * be stopped, killed and restarted on its own, as its AWS counterpart can fail on its own.
 */
export interface LocalComponent {
  readonly name: string;
  /** Extra Node.js flags for its process. */
  readonly nodeOptions?: readonly string[];
  start(config: LocalConfig): Promise<RunningComponent>;
}
