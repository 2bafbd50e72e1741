/** One server-sent event. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream into events (the WHATWG rules we need: `id`,
 * `event`, `data` lines, comments, blank-line boundaries, CRLF).
 */
export class SseParser {
  private text = '';
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): SseEvent[] {
    this.text += this.decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let end: number;
    while ((end = this.text.indexOf('\n\n')) >= 0) {
      const block = this.text.slice(0, end);
      this.text = this.text.slice(end + 2);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (id !== undefined || data.length > 0) events.push({ id, event, data: data.join('\n') });
    }
    return events;
  }
}
