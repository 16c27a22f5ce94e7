/** Timing helpers shared by the entries. Wall-clock on a shared machine: report ratios, never bare numbers. */

export interface Throughput {
  readonly operations: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly operationsPerSecond: number;
}

/**
 * Runs `writers` loops side by side until `durationMs` is up; each call of `operation` does one unit of work and
 * returns how many events it wrote. Calls that start before the deadline finish and are counted.
 */
export async function measureThroughput(
  writers: number,
  durationMs: number,
  operation: (writer: number, iteration: number) => Promise<number>,
): Promise<Throughput> {
  const started = performance.now();
  const deadline = started + durationMs;
  let operations = 0;
  let events = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let iteration = 0; performance.now() < deadline; iteration++) {
        // Not `events += await ...`: that reads `events` before the await and loses the other writers' counts.
        const written = await operation(writer, iteration);
        events += written;
        operations++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { operations, events, seconds, eventsPerSecond: events / seconds, operationsPerSecond: operations / seconds };
}

export async function timeMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN when there are none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
