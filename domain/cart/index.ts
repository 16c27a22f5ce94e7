export * from './commands';
export * from './decide';
export * from './events';
export * from './evolve';
export * from './state';
export * from './values';
export * from './seed-sku';
export * from './probe-carts';
