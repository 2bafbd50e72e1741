export * from './types';
export * from './errors';
export * from './postgres-event-store';
export * from './migrations/create-event-store';
export * from './stream-command';
