export * from './events-added';
export * from './store-layout';
export * from './stream-change';
export * from './publishable-event';
export * from './seed-events';
