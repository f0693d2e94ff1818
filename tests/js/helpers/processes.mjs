/** Spawning Node scripts and waiting on their output or exit, without sleeps. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * Starts `node ...args` and resolves once a stdout line matches `pattern`. Rejects with the
 * child's stderr when it exits first.
 * @param {string[]} args
 * @param {RegExp} pattern
 * @param {{ cwd?: string }} [options]
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, match: RegExpMatchArray }>}
 */
export async function startNode(args, pattern, options = {}) {
  const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`node ${args.join(' ')} exited (${code ?? signal}) before printing ${pattern}: ${stderr}`);
  });
  const ready = (async () => {
    for await (const line of lines) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
    return null;
  })();
  const match = await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  child.stdout.resume();
  if (match === null) throw new Error(`node ${args.join(' ')} closed stdout without printing ${pattern}`);
  return { child, match };
}

/**
 * Runs `node ...args` to completion; a child still running after 20 s is killed, which the
 * caller sees as a null exit code.
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>}
 */
export async function runNode(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const [code, signal] = await once(child, 'close');
  return { code, signal, stdout, stderr };
}

/**
 * Stops a child started by `startNode` and resolves with how it exited.
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 * @returns {Promise<{ code: number | null, signal: string | null }>}
 */
export async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const exited = once(child, 'exit');
  child.kill(signal);
  const [code, exitSignal] = await exited;
  return { code, signal: exitSignal };
}
