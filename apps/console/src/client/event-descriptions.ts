import type { EventTypeInfo } from './api';
import type { Language } from './i18n';

/**
 * The catalog's descriptions in Portuguese, by event type. The service serves
 * them in English (the API's language); the console shows these in pt-BR, and
 * the service's own text in English. A unit test keeps one for every type.
 */
export const eventDescriptionsPtBR: Record<EventTypeInfo['type'], string> = {
  'purchase.not_logged': 'O aluno abriu o link de checkout, mas ainda não entrou na conta.',
  'purchase.logged': 'O aluno entrou na conta; o carrinho ainda não foi criado.',
  'purchase.shopping_cart_created': 'O aluno tem um carrinho com o curso.',
  'purchase.basic_info_incomplete': 'Os dados básicos do aluno estão faltando ou voltaram para correção.',
  'purchase.basic_info_review': 'Os dados básicos do aluno estão em análise.',
  'purchase.document_info_incomplete': 'Os documentos do aluno estão faltando ou voltaram para correção.',
  'purchase.document_info_review': 'Os documentos do aluno estão em análise.',
  'purchase.guarantor_needed': 'O crédito exige um fiador, que ainda não foi indicado.',
  'purchase.guarantor_incomplete': 'Os dados do fiador estão faltando ou voltaram para correção.',
  'purchase.guarantor_review': 'Os dados do fiador estão em análise.',
  'purchase.not_approved_by_provi': 'A Provi não aprovou o crédito como pedido; o aluno ainda pode alterá-lo ou indicar um fiador.',
  'purchase.approved_by_provi': 'A Provi aprovou o crédito; o contrato vem a seguir.',
  'purchase.analysis': 'O pedido de crédito está em análise.',
  'purchase.waiting_signature': 'O contrato foi enviado e aguarda a assinatura do aluno.',
  'purchase.waiting_payment': 'O pagamento é aguardado.',
  'purchase.approved': 'O pagamento foi confirmado; a compra aguarda ser efetivada.',
  'purchase.made_effective': 'A compra foi concluída: a escola pode matricular o aluno.',
  'purchase.abandonment_before_signed': 'O aluno desistiu antes de assinar o contrato.',
  'purchase.link_inactive': 'O link de checkout ficou inativo depois de um período sem atividade.',
  'purchase.expired': 'A compra expirou depois de o link ficar inativo.',
  'purchase.denied': 'O crédito foi negado em definitivo.',
  'purchase.abandonment_after_signed': 'O aluno desistiu depois de assinar o contrato, antes de pagar.',
  'purchase.abandonment_after_upfront': 'O aluno desistiu depois de pagar a entrada.',
  'purchase.abandonment_after_settled': 'O aluno desistiu depois de a compra ser liquidada.',
  'purchase.isa_abandonment_after_signed': 'O aluno desistiu depois de assinar um contrato de renda compartilhada (ISA).',
  'purchase.isa_default': 'O aluno ficou inadimplente em um contrato de renda compartilhada (ISA).',
  'purchase.effective': 'A matrícula do aluno está efetivada.',
  'purchase.studying': 'O aluno está cursando.',
  'purchase.pending': 'Uma parcela venceu e ainda não foi paga.',
  'purchase.paid': 'A parcela mais recente foi paga.',
  'purchase.awaiting_declaration': 'A declaração de renda do aluno é aguardada.',
  'purchase.late_declaration': 'A declaração de renda do aluno está atrasada.',
  'purchase.declaration_analysis': 'A declaração de renda está em análise.',
  'purchase.declaration_review': 'A declaração de renda está em revisão manual.',
  'purchase.no_income': 'O aluno declarou não ter renda; nada é devido neste período.',
  'purchase.income_below_min': 'A renda do aluno está abaixo do mínimo; nada é devido neste período.',
  'purchase.late': 'Uma parcela está atrasada.',
  'purchase.protest': 'A dívida atrasada foi protestada em cartório.',
  'purchase.negativated': 'O aluno foi negativado nos birôs de crédito pela dívida atrasada.',
  'purchase.default': 'A dívida está inadimplente.',
  'purchase.fully_paid': 'A dívida está totalmente paga.',
  'purchase.personal_data_erased': 'Os dados pessoais do aluno foram eliminados (LGPD): elimine a sua cópia. Enviado uma vez por compra do aluno; não é um status.',
};

/** The description of an event type in the page's language. */
export function eventDescription(info: Pick<EventTypeInfo, 'type' | 'description'>, language: Language): string {
  return language === 'pt-BR' ? eventDescriptionsPtBR[info.type] : info.description;
}
