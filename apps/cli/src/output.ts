/** Where the CLI writes, and how: colours only for a person at a terminal, JSON lines for scripts. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Where `.gancho/demo.json` is looked for (and in its parents); default the process's. */
  cwd?: string;
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof codes;

export class Output {
  readonly colour: boolean;

  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {
    const env = io.env;
    this.colour = !json && env['NO_COLOR'] === undefined && (env['FORCE_COLOR'] !== undefined ? env['FORCE_COLOR'] !== '0' : io.stdout.isTTY === true);
  }

  paint(colour: Colour, text: string): string {
    return this.colour ? `\u001b[${codes[colour]}m${text}\u001b[0m` : text;
  }

  /** A line for a person (skipped in --json mode). */
  line(text: string): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }

  /** A record for a script: one JSON document per line (only in --json mode). */
  record(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Either a record (--json) or the human text. */
  emit(value: unknown, human: string): void {
    if (this.json) this.record(value);
    else this.line(human);
  }

  error(text: string): void {
    if (this.json) this.io.stderr.write(`${JSON.stringify({ error: text })}\n`);
    else this.io.stderr.write(`${this.colour ? `\u001b[31m${text}\u001b[0m` : text}\n`);
  }

  /** Columns padded to their widest cell. */
  table(rows: string[][]): void {
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows)
      this.line(
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      );
  }
}
