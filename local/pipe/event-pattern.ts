/**
 * EventBridge event-pattern matching for the subset the CDC Pipe's filter criteria use: nested objects whose
 * leaves are arrays of exact values (`{"eventName":["INSERT"]}`). Hand-written because no maintained npm package
 * implements EventBridge patterns; anything outside the subset (prefix, anything-but, numeric, exists...) is
 * refused when the runner starts, so that the local filter can never silently differ from the AWS one.
 */
export type EventPattern = Readonly<Record<string, unknown>>;

export function compilePattern(pattern: EventPattern): (event: unknown) => boolean {
  validate(pattern, '$');
  return (event) => matches(pattern, event);
}

/** Pipes forwards an event when ANY of its filters matches; no filters means everything passes. */
export function compileFilters(patterns: readonly EventPattern[]): (event: unknown) => boolean {
  if (patterns.length === 0) return () => true;
  const compiled = patterns.map(compilePattern);
  return (event) => compiled.some((match) => match(event));
}

function validate(pattern: unknown, path: string): void {
  if (Array.isArray(pattern)) {
    for (const value of pattern) {
      if (value !== null && typeof value === 'object') {
        throw new Error(`filter pattern at ${path} uses ${JSON.stringify(value)}: the local Pipe matches exact values only`);
      }
    }
    return;
  }
  if (pattern === null || typeof pattern !== 'object') throw new Error(`filter pattern at ${path} must be an object or an array of values`);
  for (const [key, value] of Object.entries(pattern)) validate(value, `${path}.${key}`);
}

function matches(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    // A leaf matches a value in the list; for an array field, any of its elements may match.
    const candidates = Array.isArray(value) ? value : [value];
    return candidates.some((candidate) => pattern.includes(candidate));
  }
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(pattern as Record<string, unknown>).every(([key, sub]) => matches(sub, (value as Record<string, unknown>)[key]));
}
