import type { NextFunction, Request, Response } from 'express';
import { ProblemError, type FieldProblem } from './problem';

// U+0000, and a UTF-16 surrogate without its pair: PostgreSQL's jsonb refuses both
// ("unsupported Unicode escape sequence"), text columns refuse U+0000, and a lone
// surrogate would be stored as U+FFFD. Neither is text a person wrote.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** At most this many problems are named; a body full of bad text needs no longer answer. */
const maxProblems = 20;

/** Why a string cannot be stored as text, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  const found = unstorable.exec(value);
  if (!found) return undefined;
  const unit = found[0].charCodeAt(0);
  if (unit === 0) return `must not contain U+0000 (at index ${found.index})`;
  return `must be valid Unicode: a lone UTF-16 surrogate U+${unit.toString(16).toUpperCase()} at index ${found.index}`;
}

interface Node {
  value: unknown;
  key: string | undefined;
  parent: Node | undefined;
}

const pathOf = (node: Node): string => {
  const keys: string[] = [];
  for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
};

/**
 * Every string (and object key) in a parsed JSON value that cannot be stored,
 * named by its path as the validation errors name fields ("course.name",
 * "event_types.0"). Iterative, so a body nested ten thousand levels deep cannot
 * exhaust the stack.
 */
export function textProblemsIn(root: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const queue: Node[] = [{ value: root, key: undefined, parent: undefined }];
  for (let i = 0; i < queue.length && problems.length < maxProblems; i++) {
    const node = queue[i] as Node;
    const { value } = node;
    if (typeof value === 'string') {
      const message = textProblem(value);
      if (message) problems.push({ path: pathOf(node) || '(body)', message });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => queue.push({ value: item, key: String(index), parent: node }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const message = textProblem(key);
        if (message) problems.push({ path: pathOf(node) || '(body)', message: `a field name ${message}` });
        else queue.push({ value: item, key, parent: node });
      }
    }
  }
  return problems.slice(0, maxProblems);
}

/** Percent-decoded, or undefined when the bytes are not UTF-8. */
function decoded(component: string): string | undefined {
  try {
    return decodeURIComponent(component);
  } catch {
    return undefined;
  }
}

function queryProblems(rawQuery: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = (equals < 0 ? pair : pair.slice(0, equals)).replace(/\+/g, ' ');
    const rawValue = (equals < 0 ? '' : pair.slice(equals + 1)).replace(/\+/g, ' ');
    const name = decoded(rawName);
    const value = decoded(rawValue);
    const path = name !== undefined && textProblem(name) === undefined ? name : rawName;
    if (name === undefined || value === undefined) problems.push({ path, message: 'is not valid UTF-8 once percent-decoded' });
    else {
      const message = textProblem(name) ?? textProblem(value);
      if (message) problems.push({ path, message });
    }
  }
  return problems.slice(0, maxProblems);
}

function pathProblems(path: string): FieldProblem[] {
  for (const segment of path.split('/')) {
    const value = decoded(segment);
    const message = value === undefined ? 'is not valid UTF-8 once percent-decoded' : textProblem(value);
    if (message) return [{ path: '(path)', message: `segment "${segment}" ${message}` }];
  }
  return [];
}

/**
 * One rule for the text of every request, applied after the body parser so
 * that no route, field or query parameter can forget it: the path, every
 * query parameter and every string and key of a JSON body must be UTF-8 /
 * valid Unicode without U+0000. Otherwise 400 VALIDATION_FAILED naming the
 * field, before any route (or the database) sees it.
 */
export function refuseUnstorableText(request: Request, _response: Response, next: NextFunction): void {
  const queryAt = request.originalUrl.indexOf('?');
  const checks: [string, () => FieldProblem[]][] = [
    ['path', () => pathProblems(queryAt < 0 ? request.originalUrl : request.originalUrl.slice(0, queryAt))],
    ['query', () => (queryAt < 0 ? [] : queryProblems(request.originalUrl.slice(queryAt + 1)))],
    ['request body', () => textProblemsIn(request.body)],
  ];
  for (const [what, problemsOf] of checks) {
    const errors = problemsOf();
    if (errors.length > 0) {
      next(new ProblemError('VALIDATION_FAILED', `The ${what} is invalid.`, { errors }));
      return;
    }
  }
  next();
}
