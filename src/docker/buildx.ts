// Runs docker/buildx. Output goes through BuildProgress so the job log stays readable
// while the stage learns cache hits and the failing step.
import * as exec from '@actions/exec';
import { capture, processEnv } from '../tool/capture.js';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BuildProgress } from './progress.js';
import { MIN_BUILDX, parseBuildxVersion } from './buildx-version.js';
import { atLeast, type Version } from '../tool/version.js';

export class DockerUnavailableError extends Error {}

/** The buildx version, or a clear error when docker or buildx is missing or too old. */
export async function requireBuildx(minimum = MIN_BUILDX): Promise<Version> {
  const result = await capture('docker', ['buildx', 'version']);
  if (result.exitCode !== 0) {
    throw new DockerUnavailableError(
      `docker buildx is not available (\`docker buildx version\` exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}). Install the buildx plugin, ${minimum} or newer.`,
    );
  }
  const version = parseBuildxVersion(result.stdout);
  if (!version) throw new DockerUnavailableError(`cannot read the buildx version from: ${result.stdout.trim()}`);
  if (!atLeast(version, minimum)) {
    throw new DockerUnavailableError(`docker buildx ${version.raw} is too old: ${minimum} or newer is required.`);
  }
  return version;
}

export interface BuildRun {
  exitCode: number;
  seconds: number;
  progress: BuildProgress;
  metadata?: Record<string, unknown>;
}

export async function runBuildx(args: string[], metadataFile: string, env: Record<string, string>, log: (line: string) => void): Promise<BuildRun> {
  const progress = new BuildProgress(log);
  const started = process.hrtime.bigint();
  let exitCode: number;
  try {
    exitCode = await exec.exec('docker', args, {
      ignoreReturnCode: true,
      silent: true,
      env: { ...processEnv(), ...env },
      listeners: {
        stdout: (data: Buffer) => progress.feed(data.toString('utf8')),
        stderr: (data: Buffer) => progress.feed(data.toString('utf8')),
      },
    });
  } catch (error) {
    throw new DockerUnavailableError(`docker is not installed or not on PATH (${(error as Error).message})`);
  }
  progress.end();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let metadata: Record<string, unknown> | undefined;
  if (exitCode === 0) {
    metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
  }
  return { exitCode, seconds, progress, metadata };
}

/** A build whose image comes on stdout (`--output type=oci,dest=-`): what `consume` made of it, or why it failed. */
export interface StreamedBuildRun<T> extends BuildRun {
  image?: T;
  imageError?: unknown;
  /** The image stream was refused before its end and buildx stopped: imageError is the cause, not the build. */
  refused: boolean;
}

/**
 * runBuildx for an image exported to stdout: buildx's progress comes on stderr only, and stdout is
 * the image's tar, handed to `consume` with back-pressure (a slow consumer pauses buildx instead of
 * filling memory). Whatever stdout holds past the tar's end is drained so buildx never blocks on a
 * full pipe. A `consume` error is returned, not thrown: for a stream cut short, buildx's failure
 * explains it better than the stream does. (buildx writes an exporter's
 * `dest=-` to its own stdout and refuses only a terminal there: docker/buildx build/opt.go.)
 */
export async function runBuildxStreaming<T>(args: string[], metadataFile: string, env: Record<string, string>, log: (line: string) => void, consume: (stdout: AsyncIterable<Buffer>) => Promise<T>): Promise<StreamedBuildRun<T>> {
  const progress = new BuildProgress(log);
  const started = process.hrtime.bigint();
  const child = spawn('docker', args, { env: { ...processEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (error) => reject(new DockerUnavailableError(`docker is not installed or not on PATH (${error.message})`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  exited.catch(() => undefined); // awaited below; not an unhandled rejection while consume runs
  child.stderr.on('data', (data: Buffer) => progress.feed(data.toString('utf8')));
  let image: T | undefined;
  let imageError: unknown;
  let streamEnded = false;
  child.stdout.once('end', () => (streamEnded = true));
  let refused = false;
  try {
    image = await consume(child.stdout);
  } catch (error) {
    imageError = error;
    // Refused before its end (a blob not matching its digest, an odd member): buildx is stopped,
    // and the refusal is the cause. A stream that ended short is buildx's failure, which its exit
    // status explains.
    refused = !streamEnded;
    if (refused && child.exitCode === null) child.kill('SIGTERM');
  }
  child.stdout.resume();
  const exitCode = await exited;
  progress.end();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let metadata: Record<string, unknown> | undefined;
  if (exitCode === 0 && imageError === undefined) {
    metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
  }
  return { exitCode, seconds, progress, metadata, image, imageError, refused };
}

/** The driver of a buildx builder (docker, docker-container, remote, kubernetes), from `docker buildx inspect`. */
export function parseBuilderDriver(inspectOutput: string): string | undefined {
  return /^Driver:\s+(\S+)/m.exec(inspectOutput)?.[1];
}

/**
 * The BuildKit version a builder reports (`BuildKit version: v0.23.2`), or undefined where it has
 * none to give: the docker driver on a distribution's dockerd says `v0.0.0+unknown`, and there the
 * Docker engine's version names the BuildKit it vendors.
 */
export function parseBuildkitVersion(inspectOutput: string): string | undefined {
  const version = /^\s*BuildKit version:\s+(\S+)/m.exec(inspectOutput)?.[1];
  return version && !/^v?0\.0\.0\b/.test(version) ? version : undefined;
}

async function inspectBuilder(builder?: string): Promise<string> {
  const result = await capture('docker', ['buildx', 'inspect', ...(builder ? [builder] : [])]);
  if (result.exitCode !== 0) {
    throw new DockerUnavailableError(`buildx builder ${builder ? `'${builder}' ` : ''}is not usable: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

export async function builderDriver(builder?: string): Promise<string> {
  const output = await inspectBuilder(builder);
  const driver = parseBuilderDriver(output);
  if (!driver) throw new DockerUnavailableError(`cannot read the builder driver from \`docker buildx inspect\`: ${output.trim()}`);
  return driver;
}

/** Which engine builds: recorded in image descriptions, so two runners' reports can name it. */
export interface BuildEngine {
  /** The Docker engine's version (`docker version`), absent where the daemon does not say. */
  docker?: string;
  buildx: string;
  driver: string;
  /** BuildKit's own version, where the builder reports one (docker-container builders do). */
  buildkit?: string;
}

export async function buildEngine(buildx: Version, driver: string, builder?: string): Promise<BuildEngine> {
  const engine: BuildEngine = { buildx: buildx.raw, driver };
  const server = await capture('docker', ['version', '--format', '{{.Server.Version}}']);
  if (server.exitCode === 0 && server.stdout.trim()) engine.docker = server.stdout.trim();
  const buildkit = parseBuildkitVersion(await inspectBuilder(builder).catch(() => ''));
  if (buildkit) engine.buildkit = buildkit;
  return engine;
}
