import { createHash } from 'node:crypto';
import { SKU_PATTERN } from './values';

/** Characters of a derived sku's readable part: what SKU_PATTERN allows, minus the "-" that separates words. */
const NOT_SKU_WORD = /[^A-Za-z0-9._]+/g;
const READABLE_PART_MAX = 50;
const HASH_HEX_DIGITS = 12;

/**
 * The sku of a seed item name. The seed's ItemAdded named an item by free text (`item_name`); this project's
 * events name it by sku (SKU_PATTERN). The rule, deterministic and stable across runs, machines and versions:
 *
 * 1. A name that already is a valid sku is its own sku ("apple" -> "apple", "A-1" -> "A-1").
 * 2. Any other name becomes a readable part and a fingerprint: the name, NFKD-normalised with combining accents
 *    dropped, every run of characters outside A-Z a-z 0-9 . _ replaced by one "-", "-" trimmed from both ends,
 *    cut to 50 characters; then "-" and the first 12 hex digits of the SHA-256 of the exact name (UTF-8).
 *    ("Red Mug" -> "Red-Mug-<12 hex>", "Crème brûlée" -> "Creme-brulee-<12 hex>"). A name with no such character
 *    at all ("☕☕") gets "item-<12 hex>". The result is at most 63 characters, always a valid sku.
 *
 * Collisions: two different names of kind 2 share a sku only if their 48-bit fingerprints collide (about one
 * chance in 10^14 per pair); a kind-2 sku equals a kind-1 name only if the seed held an item literally named like
 * that ("Red-Mug-" followed by those 12 hex digits). Should it happen, the two names are one line of the cart
 * (their quantities add up, the line shows the first name added), and `npm run import-seed` reports the pair.
 */
export function skuOfSeedItemName(name: string): string {
  if (SKU_PATTERN.test(name)) return name;
  const readable = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(NOT_SKU_WORD, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, READABLE_PART_MAX)
    .replace(/-+$/, '');
  const fingerprint = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  return `${readable || 'item'}-${fingerprint}`;
}
