export * from './outbox-relay';
export * from './service-outbox';
