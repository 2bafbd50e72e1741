/**
 * Kafka topics shared by the services (`service.thing.vN`). A breaking change
 * to a value's shape gets a new topic version, never an in-place edit.
 */
export const Topics = {
  /** Plaintext student; produced only with journey's PUBLISH_STATUS_V1=true, for a delivery older than the LGPD release. */
  purchaseStatus: 'journey.purchase-status.v1',
  /** Key: purchase id; value: `PurchaseStatusEventV2` (the student sealed under the subject key). */
  purchaseStatusV2: 'journey.purchase-status.v2',
  /** Compacted; key: subject id; value: `SubjectKeyRecordV1`; a tombstone is the erasure. */
  subjectKeys: 'journey.subject-keys.v1',
  /** Key: subject id; value: `PersonalDataErasureV1`. */
  personalDataErasures: 'journey.personal-data-erasures.v1',
  endpoints: 'subscriptions.endpoints.v1',
  /** Compacted; key: API key id; value: `ApiKeyRecordV1`. Every service's partner authentication reads it. */
  apiKeys: 'subscriptions.api-keys.v1',
  /** Key: endpoint id; value: `EndpointHealthReportV1`. Delivery tells subscriptions to disable an endpoint. */
  endpointHealth: 'delivery.endpoint-health.v1',
  deliveryAttempts: 'delivery.attempts.v1',
  /** Key: endpoint id; value: the `data` of an operational webhook (`endpoint.disabled`, `endpoint.enabled`, `endpoint.secret_rotation_ending`). Delivery sends them to the partner's operational endpoints. */
  operationalEvents: 'subscriptions.operational-events.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];
