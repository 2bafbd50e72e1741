import { httpStatusOf } from './error-statuses';

export interface FieldProblem {
  /** JSON pointer-like path of the offending field, e.g. "student.email". */
  path: string;
  message: string;
}

/** RFC 9457 problem details, with our stable `code`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

/** An error raised at the edge (validation, auth, idempotency) with a stable code. */
export class ProblemError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: { errors?: FieldProblem[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'ProblemError';
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemDetails(code: string, detail: string | undefined, extensions: Record<string, unknown> = {}): ProblemDetails {
  const status = httpStatusOf(code);
  return {
    type: `https://docs.gancho.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
    ...extensions,
  };
}
