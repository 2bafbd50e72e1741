import { Injectable, type PipeTransform } from '@nestjs/common';
import { z, type ZodType } from 'zod';
import { ProblemError, type FieldProblem } from './problem';

export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return { path: path || '(body)', message: `unknown field(s): ${keys}` };
    }
    return { path: path || '(body)', message: issue.message };
  });
}

/** Parses a value with a zod schema or throws VALIDATION_FAILED naming every bad field. */
export function parseOrThrow<T>(schema: ZodType<T>, value: unknown, what = 'request body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ProblemError('VALIDATION_FAILED', `The ${what} is invalid.`, { errors: fieldProblems(result.error) });
}

/** `@Body(new ZodBody(schema))`: validated, typed, unknown fields refused (use `z.strictObject`). */
@Injectable()
export class ZodBody<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T>) {}

  transform(value: unknown): T {
    return parseOrThrow(this.schema, value ?? {});
  }
}
