// A small reader of our Dockerfile, enough to check the rules the image must
// keep (hadolint checks general good practice; this checks ours).

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

/** Instructions in order, with `\` continuations joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending && line.trimStart().startsWith('#')) return;
    if (!pending) startLine = index + 1;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) return;
    const match = pending.trim().match(/^(\S+)\s*(.*)$/s);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: startLine });
    pending = '';
  });
  return instructions;
}

/** Stages, each with its instructions; ARGs before the first FROM belong to none. */
export function stagesOf(instructions: Instruction[]): { globalArgs: Instruction[]; stages: Stage[] } {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = instruction.args.match(/^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i);
      stages.push({ from: match?.[1] ?? instruction.args, name: match?.[2], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') globalArgs.push(instruction);
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The value of `ARG NAME=value` among the global ARGs, with `${NAME}` in a FROM resolved. */
function resolveFrom(from: string, globalArgs: Instruction[]): string {
  return from.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const arg = globalArgs.find((a) => a.args.startsWith(`${name}=`));
    return arg ? arg.args.slice(name.length + 1) : whole;
  });
}

const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Every rule the service image must keep; an empty list means the Dockerfile passes. */
export function checkDockerfile(text: string): string[] {
  const problems: string[] = [];
  const { globalArgs, stages } = stagesOf(parseDockerfile(text));
  if (stages.length < 2) problems.push('needs a multi-stage build (a build stage and a runtime stage)');
  for (const stage of stages) {
    const image = resolveFrom(stage.from, globalArgs);
    if (stages.some((s) => s.name === image)) continue;
    const [name, tag] = image.split(':');
    if (!tag || tag === 'latest') problems.push(`base image ${image} is not pinned by tag`);
    else if (name !== 'node' || !/^24([.-]|$)/.test(tag) || !/(slim|alpine)/.test(tag)) problems.push(`base image ${image} is not node:24 slim or alpine`);
  }
  const build = stages[0];
  const runtime = stages[stages.length - 1];
  if (!build || !runtime || build === runtime) return problems;

  const buildRuns = args(build, 'RUN').join('\n');
  if (!args(build, 'ARG').some((a) => a === 'APP')) problems.push('the build stage does not declare ARG APP');
  if (!/\bnpm ci\b/.test(buildRuns)) problems.push('the build stage does not install with npm ci');
  if (!/npx nx run "?@gancho\/\$\{?APP\}?:build"?/.test(buildRuns)) problems.push('the build stage does not build @gancho/${APP} with Nx');
  if (!/npm (prune|ci)\b[^\n]*--omit=dev/.test(buildRuns + args(runtime, 'RUN').join('\n'))) problems.push('dev dependencies are not dropped (npm prune/ci --omit=dev)');
  if (!/libs\/[^\n]*dist/.test(buildRuns + args(runtime, 'COPY').join('\n'))) problems.push("the workspace libraries' dist/ is not copied into the runtime image");

  if (!args(runtime, 'ARG').some((a) => a === 'APP')) problems.push('the runtime stage does not declare ARG APP');
  if (args(runtime, 'COPY').some((a) => !a.includes('--from='))) problems.push('the runtime stage copies from the build context: sources do not belong in it');
  const users = args(runtime, 'USER');
  const user = users[users.length - 1];
  if (!user) problems.push('the runtime stage sets no USER (it would run as root)');
  else if (/^(root|0)(:|$)/.test(user)) problems.push(`the runtime stage runs as ${user}`);
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user} is not numeric: Kubernetes' runAsNonRoot cannot verify a name`);

  const exposed = args(runtime, 'EXPOSE')
    .flatMap((a) => a.split(/\s+/))
    .map((p) => p.replace(/\/tcp$/, ''));
  const port = args(runtime, 'ENV')
    .join(' ')
    .match(/\bPORT=(\d+)/)?.[1];
  if (!port) problems.push('the runtime stage does not set ENV PORT');
  else if (!exposed.includes(port)) problems.push(`EXPOSE ${exposed.join(' ') || '(none)'} does not include PORT ${port}`);

  const healthcheck = args(runtime, 'HEALTHCHECK')[0];
  if (!healthcheck) problems.push('the runtime stage has no HEALTHCHECK');
  else if (!/CMD \["node"/.test(healthcheck) || !healthcheck.includes('fetch(') || !healthcheck.includes('/health/live')) {
    problems.push('HEALTHCHECK does not fetch /health/live with node (the slim image has no curl)');
  }

  const cmd = args(runtime, 'CMD')[0] ?? '';
  if (!cmd.startsWith('[')) problems.push('CMD is not in exec form (node must be PID 1 to receive SIGTERM)');
  else if (!cmd.includes('"dist/main.js"')) problems.push('CMD does not start dist/main.js');
  if (!args(runtime, 'WORKDIR').some((w) => /\/apps\/\$\{?APP\}?$/.test(w))) problems.push('WORKDIR is not the app selected by APP');
  return problems;
}
