import type { CartSummary } from '../domain/projections';
import { INITIAL_POINTER, startBuilding, switchTo, type GenerationPointer } from '../domain/projections';
import { CachedGenerationPointer, changePointer, GenerationalReadModels, type GenerationPointerStore } from './generations';

function memoryPointer(initial: GenerationPointer = INITIAL_POINTER): GenerationPointerStore & { stored: GenerationPointer } {
  return {
    stored: initial,
    async read() {
      return this.stored;
    },
    async write(next, expectedRevision) {
      if (this.stored.revision !== expectedRevision) return false;
      this.stored = next;
      return true;
    },
  };
}

const summary = (version: number): CartSummary => ({ cartId: 'c', status: 'OPEN', items: [], totalQuantity: 0, version });

describe('generational read models', () => {
  it('answer the highest version of every generation the pointer names, and from the live one when alone', async () => {
    const store = memoryPointer();
    const rows = new Map<number, CartSummary | undefined>([[0, summary(5)], [1, summary(3)]]);
    let now = 0;
    const readModels = new GenerationalReadModels(new CachedGenerationPointer(store, 1_000, () => now), (generation) => ({
      cartSummary: async () => rows.get(generation),
      topItems: async () => [{ sku: `g${generation}`, timesAdded: 1, quantityInOpenCarts: 0 }],
    }));
    expect(await readModels.cartSummary('c')).toEqual(summary(5));

    await changePointer(store, (stored) => ({ pointer: startBuilding(stored, ['cart-summary', 'item-popularity'], 'run').pointer, result: undefined }));
    now += 999; // still the cached pointer: generation 0 only
    expect(await readModels.cartSummary('c')).toEqual(summary(5));
    now += 1; // building: the new generation is behind, the live one answers
    expect(await readModels.cartSummary('c')).toEqual(summary(5));
    rows.set(1, summary(6));
    expect(await readModels.cartSummary('c')).toEqual(summary(6));

    await changePointer(store, (stored) => ({ pointer: switchTo(stored, ['cart-summary', 'item-popularity'], 1), result: undefined }));
    now += 1_000;
    rows.set(0, undefined); // retired rows vanish: the new generation answers
    expect(await readModels.cartSummary('c')).toEqual(summary(6));
    expect(await readModels.topItems(1)).toEqual([{ sku: 'g1', timesAdded: 1, quantityInOpenCarts: 0 }]);
  });

  it('a cached pointer is never replaced by an older revision', async () => {
    const store = memoryPointer({ revision: 7, projections: { 'cart-summary': { live: 3 } } });
    let now = 0;
    const cached = new CachedGenerationPointer(store, 10, () => now);
    expect((await cached.current()).revision).toBe(7);
    store.stored = { revision: 6, projections: { 'cart-summary': { live: 2 } } };
    now += 11;
    expect((await cached.current()).revision).toBe(7);
  });

  it('changePointer re-reads and recomputes when another writer changed the pointer first', async () => {
    const store = memoryPointer();
    const write = store.write.bind(store);
    let raced = false;
    store.write = async (next, expected) => {
      if (!raced) {
        raced = true;
        store.stored = startBuilding(store.stored, ['cart-summary'], 'other').pointer;
      }
      return write(next, expected);
    };
    const generation = await changePointer(store, (stored) => {
      const started = startBuilding(stored, ['item-popularity'], 'mine');
      return { pointer: started.pointer, result: started.generation };
    });
    expect(generation).toBe(2);
    expect(store.stored.projections['cart-summary']?.building).toBe(1);
  });
});
