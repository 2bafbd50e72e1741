export * from './event-transport';
export * from './kafka/kafka-transport';
export * from './nest/event-transport.context';
export * from './nest/event-transport.server';
export * from './nest/connect-event-transport-consumer';
export * from './postgres/postgres-transport';
export { partitionForKey } from './postgres/partitioner';
