import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemDetails } from './problem';

/** What Node's HTTP parser refused, by its error code; anything else is a malformed request. */
const problemByClientError: Record<string, { code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'REQUEST_HEADERS_TOO_LARGE', detail: 'The request headers are larger than this API accepts.' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: 'PAYLOAD_TOO_LARGE', detail: 'The chunk extensions are larger than this API accepts.' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', detail: 'The request did not arrive in time.' },
};
const malformed = { code: 'MALFORMED_REQUEST', detail: 'The request is not valid HTTP/1.1.' };

/** How long a refused connection keeps reading what the client still sends, so that it reads the answer instead of a reset. */
export const refusedConnectionLingerMs = 2000;

/**
 * Answers requests that Node's HTTP parser refuses (headers over
 * maxHeaderSize, bad syntax, header timeout) with problem+json, as every
 * other refusal, instead of Node's bare status line. The connection is then
 * half-closed and drained for a moment before it is destroyed: closing it
 * while the client is still sending (a 100 KB header) makes the kernel reset
 * the connection, and the client sees ECONNRESET instead of the answer.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The parser reports again for every chunk that follows the first error.
    if (answered.has(socket)) return;
    answered.add(socket);
    // As Node itself: never write into a response already under way.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { code, detail } = (error.code && problemByClientError[error.code]) || malformed;
    const problem = problemDetails(code, detail);
    const body = JSON.stringify(problem);
    socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), refusedConnectionLingerMs).unref();
  });
}
