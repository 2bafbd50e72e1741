// The Kubernetes version the chart is validated against, and every kind it
// renders. A kind missing here has no schema, and kubeconform refuses it.

/** The Prometheus Operator whose ServiceMonitor CRD the optional ServiceMonitor is checked against. */
export const prometheusOperatorVersion = 'v0.85.0';

/** The oldest Kubernetes minor the chart supports (every API it uses is GA there). */
export const kubernetesVersion = 'v1.33.13';

export interface SchemaKind {
  apiVersion: string;
  kind: string;
  /** The type's name in the OpenAPI document's definitions. */
  definition: string;
  /** kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json`. */
  file: string;
}

function kind(apiVersion: string, kindName: string, definition: string): SchemaKind {
  const [groupOrVersion, version] = apiVersion.split('/') as [string, string | undefined];
  const suffix = version ? `-${groupOrVersion.split('.')[0]}-${version}` : `-${groupOrVersion}`;
  return { apiVersion, kind: kindName, definition, file: `${kindName.toLowerCase()}${suffix.toLowerCase()}.json` };
}

export const schemaKinds: SchemaKind[] = [
  kind('v1', 'ConfigMap', 'io.k8s.api.core.v1.ConfigMap'),
  kind('v1', 'Service', 'io.k8s.api.core.v1.Service'),
  kind('apps/v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment'),
  kind('batch/v1', 'Job', 'io.k8s.api.batch.v1.Job'),
  kind('autoscaling/v2', 'HorizontalPodAutoscaler', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler'),
  kind('policy/v1', 'PodDisruptionBudget', 'io.k8s.api.policy.v1.PodDisruptionBudget'),
  kind('networking.k8s.io/v1', 'NetworkPolicy', 'io.k8s.api.networking.v1.NetworkPolicy'),
];

/** Custom resources: the schema comes from the CRD's openAPIV3Schema in the operator's Go module. */
export const crdKinds: (SchemaKind & { module: string; crdFile: string })[] = [
  {
    ...kind('monitoring.coreos.com/v1', 'ServiceMonitor', 'ServiceMonitor'),
    module: `github.com/prometheus-operator/prometheus-operator@${prometheusOperatorVersion}`,
    crdFile: 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
  },
];
