import { z } from 'zod';
import { Quantity, Sku } from './values';

/**
 * The one list of commands and what each carries. CartCommand and CART_COMMAND_TYPES derive from it; decide's
 * switch, the API's routes and the test generators are checked against it by the compiler (docs/contributing.md).
 */
export const CART_COMMAND_SCHEMAS = {
  OpenCart: z.object({}).strict(),
  AddItem: z.object({ sku: Sku, quantity: Quantity }).strict(),
  /** Without a quantity, the whole line. */
  RemoveItem: z.object({ sku: Sku, quantity: Quantity.optional() }).strict(),
  /** Sets the line's quantity, adding the line when the cart has none of the sku. */
  SetItemQuantity: z.object({ sku: Sku, quantity: Quantity }).strict(),
  CloseCart: z.object({}).strict(),
} as const satisfies Record<string, z.ZodType>;

export type CartCommandType = keyof typeof CART_COMMAND_SCHEMAS;

/** A strict empty object infers as an index signature of `never`; as command fields it means "no fields". */
type Fields<T> = string extends keyof T ? unknown : T;

export type CartCommand = { [C in CartCommandType]: { type: C } & Fields<z.infer<(typeof CART_COMMAND_SCHEMAS)[C]>> }[CartCommandType];

export type CartCommandOf<C extends CartCommandType> = Extract<CartCommand, { type: C }>;

export const CART_COMMAND_TYPES = Object.keys(CART_COMMAND_SCHEMAS) as readonly CartCommandType[];
