import { eventTypes, statusCatalog, statusOfEventType, webhookEventTypes } from '@gancho/contracts';
import { eventDescription, eventDescriptionsPtBR } from './event-descriptions';

describe('the event-type descriptions in the page’s language', () => {
  it('has a Portuguese description for every event type of the contract, and no other', () => {
    expect(Object.keys(eventDescriptionsPtBR).sort()).toEqual([...webhookEventTypes].sort());
    for (const type of eventTypes) expect(eventDescriptionsPtBR[type]).not.toBe(statusCatalog[statusOfEventType(type)].description);
  });

  it('shows the Portuguese one in pt-BR and the service’s English one in English', () => {
    const info = { type: 'purchase.paid' as const, description: 'The latest installment was paid.' };
    expect(eventDescription(info, 'pt-BR')).toBe('A parcela mais recente foi paga.');
    expect(eventDescription(info, 'en')).toBe('The latest installment was paid.');
  });
});
