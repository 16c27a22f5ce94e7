import { z } from 'zod';

export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 1_000;

export const Sku = z
  .string({ error: 'sku must be a string' })
  .regex(SKU_PATTERN, { error: 'sku must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' });

export const Quantity = z
  .number({ error: 'quantity must be a number' })
  .int({ error: 'quantity must be an integer' })
  .min(MIN_QUANTITY, { error: `quantity must be at least ${MIN_QUANTITY}` })
  .max(MAX_QUANTITY, { error: `quantity must be at most ${MAX_QUANTITY}` });

/**
 * How many of a sku a cart line holds, or an event removes: any positive integer. A line is the sum of its adds
 * (each at most MAX_QUANTITY), so removing a whole line can take more than one command may add.
 */
export const LineQuantity = z
  .number({ error: 'quantity must be a number' })
  .int({ error: 'quantity must be an integer' })
  .min(MIN_QUANTITY, { error: `quantity must be at least ${MIN_QUANTITY}` });

export type Sku = z.infer<typeof Sku>;
export type Quantity = z.infer<typeof Quantity>;
