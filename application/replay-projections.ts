import type { EventEnvelope } from '../domain/events';
import type { GenerationalProjections } from './generations';
import { isProjectionName, type ProjectionName } from './projections';
import type { ApplyCounts, ReplayProjections } from './replay-ports';

/** The projections module seen through the narrow port a replay needs. */
export function replayProjections(projections: GenerationalProjections): ReplayProjections {
  return {
    names: projections.names,
    async apply(names: readonly string[], events: readonly EventEnvelope[], generation?: number): Promise<ApplyCounts> {
      const report = await projections.apply(events, known(names), generation);
      const counts = Object.values(report.projections);
      return {
        applied: counts.reduce((sum, c) => sum + (c?.applied ?? 0), 0),
        skipped: counts.reduce((sum, c) => sum + (c?.skipped ?? 0), 0),
        caughtUp: counts.reduce((sum, c) => sum + (c?.caughtUp ?? 0), 0),
      };
    },
  };
}

export function known(names: readonly string[]): ProjectionName[] {
  return names.map((name) => {
    if (!isProjectionName(name)) throw new RangeError(`unknown projection "${name}"`);
    return name;
  });
}
