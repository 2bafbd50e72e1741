#!/usr/bin/env node
import { run } from './cli';

const stop = new AbortController();
// Ctrl-C ends `listen` and `messages tail` cleanly; a second one kills.
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
void run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }, stop.signal).then((code) => {
  process.exitCode = code;
});
