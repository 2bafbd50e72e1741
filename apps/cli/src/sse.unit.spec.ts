import { SseParser } from './sse';
import { configPath } from './config';
import { filterMatches } from './cli';

// Scenarios:
// - the SSE parser splits events across arbitrary chunk boundaries, joins multi-line data, skips comments, reads CRLF,
//   keeps an id-only event (a position), and ignores a block with neither id nor data;
// - the config file: GANCHO_CONFIG first, then XDG_CONFIG_HOME, ~/.config, %APPDATA% on Windows;
// - endpoint filters match as the platform's do.

const bytes = (text: string) => new TextEncoder().encode(text);

describe('SseParser', () => {
  it('parses events split anywhere, with comments, CRLF and multi-line data', () => {
    const parser = new SseParser();
    const stream = ': ping\n\nid: 0:5\nevent: webhook\ndata: {"a":\ndata: 1}\n\r\nretry: 1000\nid: 0:6\n\nevent: nothing\n\n';
    const events = [];
    for (let i = 0; i < stream.length; i += 7) events.push(...parser.push(bytes(stream.slice(i, i + 7))));
    expect(events).toEqual([
      { id: '0:5', event: 'webhook', data: '{"a":\n1}' },
      { id: '0:6', event: 'message', data: '' },
    ]);
  });

  it('decodes a multi-byte character split between chunks', () => {
    const parser = new SseParser();
    const encoded = bytes('data: Ciência\n\n');
    const cut = 9; // inside "ê"
    expect([...parser.push(encoded.slice(0, cut)), ...parser.push(encoded.slice(cut))]).toEqual([{ id: undefined, event: 'message', data: 'Ciência' }]);
  });
});

describe('configPath', () => {
  it('prefers GANCHO_CONFIG, then the platform config dir', () => {
    expect(configPath({ GANCHO_CONFIG: '/tmp/g.json', XDG_CONFIG_HOME: '/x' }, 'linux', '/home/ana')).toBe('/tmp/g.json');
    expect(configPath({ XDG_CONFIG_HOME: '/x' }, 'linux', '/home/ana')).toBe('/x/gancho/config.json');
    expect(configPath({}, 'darwin', '/Users/ana')).toBe('/Users/ana/.config/gancho/config.json');
    expect(configPath({ APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ana')).toContain('gancho');
  });
});

describe('filterMatches', () => {
  it.each([
    [['*'], 'purchase.paid', true],
    [['purchase.*'], 'purchase.paid', true],
    [['purchase.paid'], 'purchase.paid', true],
    [['purchase.made_effective'], 'purchase.paid', false],
    [['purchase.pa*'], 'purchase.paid', false],
    [[], 'purchase.paid', false],
  ])('%j matches %s: %s', (filter, type, expected) => {
    expect(filterMatches(filter, type)).toBe(expected);
  });
});
