export * from './event-transport';
export * from './kafka/kafka-transport';
