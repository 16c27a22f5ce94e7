/** In an expected answer, `…` stands for any value (in JSON) or any text (elsewhere). */
export const ANYTHING = '…';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/** Ids and timestamps differ on every run: both sides see them masked. */
function mask(text: string): string {
  return text.replace(UUID, '<id>').replace(ISO_TIME, '<time>');
}

/**
 * Compares what a command printed with what the guide says it prints. JSON is compared structurally (same keys,
 * same array lengths, equal values; `…` matches any value, and inside a string any text); anything else line by
 * line as text, `…` matching any run of characters (several lines too). Returns why they differ, or undefined.
 */
export function differenceFrom(expected: string, actual: string): string | undefined {
  const expectedJson = parseJson(expected.replace(/(?<!")…(?!")/g, JSON.stringify(ANYTHING)));
  const actualJson = parseJson(actual);
  if (expectedJson.ok && actualJson.ok) return jsonDifference(expectedJson.value, actualJson.value, '$');
  if (expectedJson.ok) return 'expected JSON, got text that does not parse as JSON';
  const trimmed = actual.replace(/[ \t]+$/gm, '').trim();
  return textPattern(mask(expected.trim())).test(mask(trimmed)) ? undefined : 'the text differs';
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false };
  }
}

function textPattern(expected: string): RegExp {
  const parts = expected.split(ANYTHING).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*?')}$`);
}

function jsonDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (expected === ANYTHING) return undefined;
  if (typeof expected === 'string') {
    return typeof actual === 'string' && textPattern(mask(expected)).test(mask(actual))
      ? undefined
      : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} element(s), got ${actual.length}`;
    for (const [index, element] of expected.entries()) {
      const difference = jsonDifference(element, actual[index], `${path}[${index}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const expectedKeys = Object.keys(expected).sort();
    const actualKeys = Object.keys(actual).sort();
    if (expectedKeys.join() !== actualKeys.join()) return `${path}: expected the keys ${expectedKeys.join(', ')}, got ${actualKeys.join(', ')}`;
    for (const key of expectedKeys) {
      const difference = jsonDifference((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (difference) return difference;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}
