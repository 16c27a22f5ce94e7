export * from './cart-projection';
export * from './cart-summary';
export * from './fold';
export * from './item-popularity';
export * from './generations';
