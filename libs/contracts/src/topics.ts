/**
 * Kafka topics shared by the services (`service.thing.vN`). A breaking change
 * to a value's shape gets a new topic version, never an in-place edit.
 */
export const Topics = {
  purchaseStatus: 'journey.purchase-status.v1',
  endpoints: 'subscriptions.endpoints.v1',
  deliveryAttempts: 'delivery.attempts.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];
