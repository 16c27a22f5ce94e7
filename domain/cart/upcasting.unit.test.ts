import fc from 'fast-check';
import {
  CART_EVENT_TYPES,
  CURRENT_SCHEMA_VERSION,
  fold,
  SKU_PATTERN,
  skuOfSeedItemName,
  UnknownEventError,
  upcastCartEvent,
  upcastSeedCartEvent,
  type CartEvent,
} from '.';

const CART = '6a1f0c55-9b1e-4d7e-8f0a-2b1c3d4e5f60';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UnknownEventError);
    return (error as Error).message;
  }
  throw new Error('expected the event to be refused');
}

describe('the seed sku rule', () => {
  it('keeps a name that is already a valid sku, and pins the derived sku of others (the rule must never drift)', () => {
    expect(skuOfSeedItemName('apple')).toBe('apple');
    expect(skuOfSeedItemName('A-1')).toBe('A-1');
    expect(skuOfSeedItemName('Red Mug')).toBe('Red-Mug-6569337052d9');
    expect(skuOfSeedItemName('Crème brûlée')).toBe('Creme-brulee-364046a73655');
    expect(skuOfSeedItemName('T-shirt (XL) / blue')).toBe('T-shirt-XL-blue-ac9c764d5c2f');
    expect(skuOfSeedItemName('☕☕')).toBe('item-16c888803fda');
    expect(skuOfSeedItemName('x'.repeat(65))).toMatch(/^x{50}-[0-9a-f]{12}$/);
  });

  it('gives every name, whatever its characters or length, a valid sku, the same one every time', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ maxLength: 200 })), (name) => {
        const sku = skuOfSeedItemName(name);
        expect(sku).toMatch(SKU_PATTERN);
        expect(skuOfSeedItemName(name)).toBe(sku);
      }),
      { numRuns: 500 },
    );
  }, 30_000);

  it('gives different names different skus', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 50 }), (names) => {
        expect(new Set(names.map(skuOfSeedItemName)).size).toBe(names.length);
      }),
      { numRuns: 200 },
    );
    // Names that differ only where the readable part cannot show it still differ by their fingerprint.
    expect(new Set(['Red Mug', 'Red  Mug', 'Red-Mug!', 'Red/Mug', 'Réd Mug'].map(skuOfSeedItemName)).size).toBe(5);
  }, 30_000);
});

describe('lifting the seed payloads (seed-v0 -> seed-v1 -> current)', () => {
  it('lifts each of the seed events, dropping the cart id and deriving the item line', () => {
    expect(upcastSeedCartEvent('CartOpened', { shopping_cart_uuid: CART }, CART)).toEqual({ type: 'CartOpened', data: {} });
    expect(upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: 'Red Mug' }, CART)).toEqual({
      type: 'ItemAdded',
      data: { sku: 'Red-Mug-6569337052d9', quantity: 1, name: 'Red Mug' },
    });
    expect(upcastSeedCartEvent('CartClosed', { shopping_cart_uuid: CART }, CART)).toEqual({ type: 'CartClosed', data: {} });
  });

  it('lifts any seed ItemAdded through both steps to a current payload that keeps the name verbatim', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), fc.uuid(), (name, cartId) => {
        const event = upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: cartId, item_name: name }, cartId);
        expect(event).toEqual({ type: 'ItemAdded', data: { sku: skuOfSeedItemName(name), quantity: 1, name } });
        // What was lifted is a valid event of the current version, stored and read back as such.
        expect(upcastCartEvent('ItemAdded', CURRENT_SCHEMA_VERSION.ItemAdded, event.data)).toEqual(event);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('refuses an event whose cart id is not the cart it belongs to, saying which', () => {
    for (const name of ['CartOpened', 'CartClosed']) {
      expect(refusal(() => upcastSeedCartEvent(name, { shopping_cart_uuid: 'other-cart' }, CART))).toBe(
        `shopping_cart_uuid "other-cart" is not the cart the event belongs to ("${CART}")`,
      );
    }
    expect(refusal(() => upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: 'other-cart', item_name: 'apple' }, CART))).toMatch(/not the cart/);
  });

  it('refuses what the seed could not have written', () => {
    expect(refusal(() => upcastSeedCartEvent('ItemRemoved', { shopping_cart_uuid: CART, item_name: 'apple' }, CART))).toBe('the seed has no event type "ItemRemoved"');
    expect(refusal(() => upcastSeedCartEvent('CartTeleported', {}, CART))).toMatch(/no event type "CartTeleported"/);
    expect(refusal(() => upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART }, CART))).toMatch(/ItemAdded \(version seed-v0\) data rejected: .*item_name/);
    expect(refusal(() => upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: '' }, CART))).toMatch(/item_name must not be empty/);
    expect(refusal(() => upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: 'a', sku: 'a' }, CART))).toMatch(/Unrecognized key.*sku/);
    expect(refusal(() => upcastSeedCartEvent('CartOpened', {}, CART))).toMatch(/shopping_cart_uuid/);
    expect(refusal(() => upcastSeedCartEvent('CartOpened', undefined, CART))).toMatch(/CartOpened \(version seed-v0\) data rejected/);
    // Today's payload in a seed table is not a seed payload.
    expect(refusal(() => upcastSeedCartEvent('ItemAdded', { sku: 'apple', quantity: 1 }, CART))).toMatch(/data rejected/);
  });
});

describe('this project\'s own versions', () => {
  it('lifts a stored ItemAdded v1 to v2 unchanged (no name), and reads v2 with or without a name', () => {
    expect(upcastCartEvent('ItemAdded', 1, { sku: 'A-1', quantity: 2 })).toEqual({ type: 'ItemAdded', data: { sku: 'A-1', quantity: 2 } });
    expect(upcastCartEvent('ItemAdded', 2, { sku: 'A-1', quantity: 2 })).toEqual({ type: 'ItemAdded', data: { sku: 'A-1', quantity: 2 } });
    expect(upcastCartEvent('ItemAdded', 2, { sku: 'A-1', quantity: 2, name: 'Mug' })).toEqual({ type: 'ItemAdded', data: { sku: 'A-1', quantity: 2, name: 'Mug' } });
  });

  it('checks each version against its own schema: a name never was part of v1', () => {
    expect(refusal(() => upcastCartEvent('ItemAdded', 1, { sku: 'A-1', quantity: 2, name: 'Mug' }))).toMatch(/ItemAdded \(version 1\) data rejected: .*name/);
  });

  it('refuses versions that do not exist, and takes no seed version from a stored event', () => {
    expect(refusal(() => upcastCartEvent('ItemAdded', 3, { sku: 'A', quantity: 1 }))).toBe('ItemAdded has unsupported schemaVersion 3 (current is 2)');
    expect(refusal(() => upcastCartEvent('CartOpened', 2, {}))).toMatch(/unsupported schemaVersion 2/);
    expect(refusal(() => upcastCartEvent('ItemAdded', 0, { sku: 'A', quantity: 1 }))).toMatch(/unsupported schemaVersion 0/);
    expect(refusal(() => upcastCartEvent('ItemAdded', 1.5, { sku: 'A', quantity: 1 }))).toMatch(/unsupported schemaVersion 1.5/);
  });

  it('reads every current version as it is', () => {
    const samples: Record<string, Record<string, unknown>> = { CartOpened: {}, ItemAdded: { sku: 'A', quantity: 1 }, ItemRemoved: { sku: 'A', quantity: 1 }, CartClosed: {} };
    for (const type of CART_EVENT_TYPES) expect(upcastCartEvent(type, CURRENT_SCHEMA_VERSION[type], samples[type])).toEqual({ type, data: samples[type] });
  });
});

describe('a cart folded from lifted seed history', () => {
  it('shows each line with its name; a line keeps the first name it got', () => {
    const events: CartEvent[] = [
      upcastSeedCartEvent('CartOpened', { shopping_cart_uuid: CART }, CART),
      upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: 'Red Mug' }, CART),
      upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: 'apple' }, CART),
      upcastSeedCartEvent('ItemAdded', { shopping_cart_uuid: CART, item_name: 'Red Mug' }, CART),
      { type: 'ItemAdded', data: { sku: 'apple', quantity: 2 } },
      upcastSeedCartEvent('CartClosed', { shopping_cart_uuid: CART }, CART),
    ];
    expect(fold(events)).toEqual({
      status: 'CLOSED',
      items: [
        { sku: 'Red-Mug-6569337052d9', quantity: 2, name: 'Red Mug' },
        { sku: 'apple', quantity: 3, name: 'apple' },
      ],
    });
    expect(fold([{ type: 'CartOpened', data: {} }, { type: 'ItemAdded', data: { sku: 'b', quantity: 1 } }, { type: 'ItemAdded', data: { sku: 'b', quantity: 1, name: 'Bee' } }])).toEqual({
      status: 'OPEN',
      items: [{ sku: 'b', quantity: 2, name: 'Bee' }],
    });
  });
});
