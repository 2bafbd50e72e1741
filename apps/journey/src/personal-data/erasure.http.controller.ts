import { Body, Controller, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { subjectIdPattern } from '@gancho/contracts';
import { ApiProblems, openApiSchema, ProblemError, ZodBody } from '@gancho/service-kit';
import { z } from 'zod';
import { CLOCK, type Clock } from '../platform/clock';
import { purchaseIdPattern } from '../platform/ids';
import { PlatformTokenGuard } from '../purchases/platform-token.guard';
import { ErasureService, subjectNotFound, type ErasureResult } from './erasure.service';
import { SubjectKeyring } from './subject-keyring';

const erasureBody = z.strictObject({
  requested_by: z
    .string()
    .min(1)
    .max(120)
    .regex(/^[A-Za-z0-9_.:@/-]+$/, 'letters, digits and _ . : @ / - only')
    .describe("Who asked, for the audit: the operator's or the ticket's id (never the student's data)."),
});
type ErasureBody = z.infer<typeof erasureBody>;

const lookupBody = z.strictObject({ email: z.email().max(254).describe("The student's e-mail, as the request to erase names it.") });
type LookupBody = z.infer<typeof lookupBody>;

const subjectParam = { name: 'subject_id', description: 'The data subject (student.subject_id of a purchase).', schema: { type: 'string', pattern: subjectIdPattern.source } };

/**
 * The platform's personal-data API (LGPD): find a student's data subject,
 * erase it (by subject or by purchase). Authenticated like the platform's
 * purchase routes; answers carry no personal data.
 */
@ApiTags('students')
@ApiBearerAuth('platform')
@UseGuards(PlatformTokenGuard)
@Controller()
export class ErasureController {
  constructor(
    private readonly erasures: ErasureService,
    private readonly keyring: SubjectKeyring,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('students/lookup')
  @HttpCode(200)
  @ApiOperation({ summary: "Find a student's data subject by e-mail", operationId: 'lookUpStudent' })
  @ApiProblems('SUBJECT_NOT_FOUND')
  @ApiBody({ schema: openApiSchema(lookupBody) })
  async lookUp(@Body(new ZodBody(lookupBody)) body: LookupBody): Promise<{ subject_id: string }> {
    const subjectId = await this.keyring.findByEmail(body.email);
    // The e-mail stays out of the problem: it is the personal data being asked about.
    if (!subjectId) throw new ProblemError('SUBJECT_NOT_FOUND', 'No live data subject has this e-mail (never seen, or erased).');
    return { subject_id: subjectId };
  }

  @Post('students/:subject_id/erasure')
  @HttpCode(200)
  @ApiOperation({
    summary: "Erase a student's personal data (crypto-shredding); idempotent",
    description: 'Destroys the subject key: every stored and published copy of the name and e-mail becomes unreadable; a repeated call answers the first result.',
    operationId: 'eraseStudent',
  })
  @ApiParam(subjectParam)
  @ApiProblems('SUBJECT_NOT_FOUND', 'VALIDATION_FAILED')
  @ApiBody({ schema: openApiSchema(erasureBody) })
  async erase(@Param('subject_id') subjectId: string, @Body(new ZodBody(erasureBody)) body: ErasureBody): Promise<ErasureResult> {
    if (!subjectIdPattern.test(subjectId)) throw subjectNotFound(subjectId);
    return (await this.erasures.erase(subjectId, body.requested_by, this.clock.now())).result;
  }

  @Post('purchases/:id/student/erasure')
  @HttpCode(200)
  @ApiOperation({ summary: "Erase the personal data of a purchase's student (all of the student's purchases); idempotent", operationId: 'erasePurchaseStudent' })
  @ApiParam({ name: 'id', description: 'The purchase id.', schema: { type: 'string', pattern: purchaseIdPattern.source } })
  @ApiProblems('PURCHASE_NOT_FOUND', 'VALIDATION_FAILED')
  @ApiBody({ schema: openApiSchema(erasureBody) })
  async eraseByPurchase(@Param('id') purchaseId: string, @Body(new ZodBody(erasureBody)) body: ErasureBody): Promise<ErasureResult> {
    const subjectId = purchaseIdPattern.test(purchaseId) ? await this.erasures.subjectOfPurchase(purchaseId) : undefined;
    if (!subjectId) throw new ProblemError('PURCHASE_NOT_FOUND', `There is no purchase ${purchaseId}.`, { purchaseId });
    return (await this.erasures.erase(subjectId, body.requested_by, this.clock.now())).result;
  }
}
