import { randomBytes } from 'node:crypto';
import { isPurchaseStatusEventV2 } from '@gancho/contracts';
import { decide, initialState, toPurchaseStatusEventV1 } from '@gancho/purchase-domain';
import { decodedEvent, encodedEvent, purchaseStreamOf, sealedStatusEvent } from '../purchases/purchase-command.handler';
import { erasedStudent, openStudent, sealStudent, type SubjectKey } from './student-codec';

const subject = (overrides: Partial<SubjectKey> = {}): SubjectKey => ({ subjectId: `sub_${'a'.repeat(32)}`, keyId: 'sk_0123456789abcdef', key: randomBytes(32), erasedAt: null, ...overrides });
const student = { name: 'Maria Codec', email: 'maria.codec@example.com' };

describe('the student codec', () => {
  it('seals name and e-mail as one value that opens only with the subject key and context', () => {
    const live = subject();
    const sealed = sealStudent(live, student);
    expect(sealed.subject_id).toBe(live.subjectId);
    expect(sealed.sealed).toMatch(/^v1\.sk_0123456789abcdef\./);
    expect(JSON.stringify(sealed)).not.toMatch(/Maria|codec@/);
    expect(openStudent(live, sealed)).toEqual(student);
    // Another subject's key, or the same key under another subject's context, does not open it.
    expect(() => openStudent({ ...subject(), subjectId: live.subjectId }, sealed)).toThrow();
    expect(openStudent({ ...live, subjectId: `sub_${'b'.repeat(32)}` }, sealed)).toBeUndefined();
  });

  it('cannot open anything once the key is destroyed, and seals nothing for an erased subject', () => {
    const live = subject();
    const sealed = sealStudent(live, student);
    const erased = { ...live, key: null, erasedAt: new Date() };
    expect(openStudent(erased, sealed)).toBeUndefined();
    expect(sealStudent(erased, student)).toEqual({ subject_id: live.subjectId, sealed: null });
    expect(sealStudent(live, erasedStudent)).toEqual({ subject_id: live.subjectId, sealed: null });
  });

  it('stores PurchaseOpened and every status event sealed, and folds them back for the domain', () => {
    const live = subject();
    const [opened] = decide(
      {
        type: 'OpenPurchase',
        data: { purchaseId: 'pur_1', partnerId: 'ptn_1', course: { id: 'c', name: 'Curso', priceCents: 1, currency: 'BRL' }, student, studentLoggedIn: true },
        metadata: { now: new Date('2026-12-02T00:00:00.000Z') },
      },
      initialState(),
    );
    if (!opened) throw new Error('no event');
    const stored = encodedEvent(opened, live);
    expect(JSON.stringify(stored)).not.toMatch(/Maria|codec@/);
    expect(decodedEvent(stored, live)).toEqual(opened);
    expect(decodedEvent(stored, { ...live, key: null })).toMatchObject({ data: { student: erasedStudent } });
    const status = sealedStatusEvent(toPurchaseStatusEventV1(opened, initialState()), live);
    expect(isPurchaseStatusEventV2(status)).toBe(true);
    expect(JSON.stringify(status)).not.toMatch(/Maria|codec@/);
    const model = purchaseStreamOf(live);
    expect(model.evolve(model.initialState, stored).state).toMatchObject({ exists: true, student });
  });
});
