import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { isEventType, personalDataErasedEventType, personalDataErasedWebhookSchema, webhookPayloadSchema } from '@gancho/contracts';

/**
 * Validates webhook bodies against the published JSON Schema of their type
 * (draft 2020-12, formats on); returns the problems, empty when valid.
 */
export function webhookSchemaValidator(): (payload: unknown) => string[] {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return (payload) => {
    const type = (payload as { type?: unknown } | null)?.type;
    if (!isEventType(type) && type !== personalDataErasedEventType) return [`unknown event type ${JSON.stringify(type)}`];
    const schema = isEventType(type) ? webhookPayloadSchema(type) : personalDataErasedWebhookSchema();
    const validate = ajv.getSchema(schema.$id as string) ?? ajv.compile(schema);
    return validate(payload) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`);
  };
}
