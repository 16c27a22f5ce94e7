import type { ArchiveObjects } from '../../application/replay-ports';
import { archiveDayPrefix, EVENTS_PER_OBJECT, readAndParse, seedArchive } from './archive';

function inMemoryArchive(): ArchiveObjects & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    async *list(prefix) {
      for (const [key, body] of [...objects].sort(([a], [b]) => a.localeCompare(b))) if (key.startsWith(prefix)) yield { key, etag: '', size: body.length };
    },
    read: async (key) => objects.get(key),
    write: async (key, body) => void objects.set(key, body),
  };
}

describe('the seeded archive of the replay and rebuild bench entries', () => {
  it('writes the asked number of valid events under the day, in objects of EVENTS_PER_OBJECT spread over its hours, and the floor reads them all back', async () => {
    const archive = inMemoryArchive();
    const prefix = archiveDayPrefix('2001-02-01');
    expect(prefix).toBe('events/2001/02/01/');
    archive.objects.set('events/2001/02/02/00/elsewhere.jsonl', 'not json\n');

    const seeded = await seedArchive(archive, prefix, 2_500);

    expect(seeded.objects).toBe(3);
    const keys = [...archive.objects.keys()].filter((key) => key.startsWith(prefix));
    expect(keys.map((key) => key.slice(prefix.length, prefix.length + 3)).sort()).toEqual(['00/', '01/', '02/']);
    const linesPerObject = keys.map((key) => archive.objects.get(key)!.trim().split('\n').length).sort((a, b) => a - b);
    expect(linesPerObject).toEqual([500, EVENTS_PER_OBJECT, EVENTS_PER_OBJECT]);
    const floor = await readAndParse(archive, prefix);
    expect(floor.events).toBe(2_500);
  });

  it('the floor refuses an archive with a line that is not an event', async () => {
    const archive = inMemoryArchive();
    await seedArchive(archive, 'events/2001/02/01/', 10);
    archive.objects.set('events/2001/02/01/05/junk.jsonl', '{"not":"an envelope"}\n');
    await expect(readAndParse(archive, 'events/2001/02/01/')).rejects.toThrow('invalid lines');
  });
});
