import { textProblem, textProblemsIn } from './request-text';

describe('text that can be stored', () => {
  it('accepts any well-formed Unicode, surrogate pairs included', () => {
    for (const text of ['', 'Ana Souza', 'Ciência de Dados', '😀 ok', 'ab\ud83d\ude00', '\t\r\n\u0001\uffff', 'עברית']) expect(textProblem(text)).toBeUndefined();
  });

  it.each([
    ['a\u0000b', 'U+0000 (at index 1)'],
    ['a\ud800b', 'U+D800 at index 1'],
    ['\udc00', 'U+DC00 at index 0'],
    ['ok\ud83d', 'U+D83D at index 2'],
    ['\ude00\ud83d', 'U+DE00 at index 0'],
  ])('refuses %j: %s', (text, says) => {
    expect(textProblem(text)).toContain(says);
  });

  it('names every bad string and key by its path, arrays included', () => {
    expect(textProblemsIn({ course: { name: 'a\ud800' }, tags: ['ok', '\u0000'], 'x\udc00': 1, fine: 'yes' })).toEqual([
      { path: '(body)', message: expect.stringContaining('a field name') },
      { path: 'course.name', message: expect.stringContaining('U+D800') },
      { path: 'tags.1', message: expect.stringContaining('U+0000') },
    ]);
    expect(textProblemsIn('\u0000')).toEqual([{ path: '(body)', message: expect.stringContaining('U+0000') }]);
    expect(textProblemsIn(undefined)).toEqual([]);
  });

  it('walks a body nested 10,000 levels deep without exhausting the stack, and names at most 20 problems', () => {
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 10_000; i++) deep = i % 2 ? { k: deep } : [deep];
    const [problem] = textProblemsIn(deep);
    expect(problem?.path.split('.')).toHaveLength(10_000);
    expect(textProblemsIn(Array.from({ length: 100 }, () => '\u0000'))).toHaveLength(20);
  });
});
