export * from './outbox-relay';
