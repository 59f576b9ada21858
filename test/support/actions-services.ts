// A local stand-in for GitHub's Actions cache service (v2) and artifact service (v4, the
// "results" API): Twirp JSON over node:http, with the bytes stored in Azurite so that the
// real, unmodified @actions/cache and @actions/artifact upload and download through the
// Azure SDK and signed (SAS) URLs exactly as they do against GitHub.
//
// Field names follow the proto definitions the libraries are generated from
// (@actions/cache/lib/generated/results/api/v1/cache.js,
//  @actions/artifact/lib/generated/results/api/v1/artifact.js): JSON uses the proto field
// names (snake_case), int64 travels as a string, wrapper types (StringValue, Int64Value) as
// bare values and Timestamps as RFC 3339 strings.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';

export interface ActionsServices {
  resultsUrl: string; // e.g. http://127.0.0.1:PORT/  (ACTIONS_RESULTS_URL)
  /** The default branch: every run may read its cache entries. */
  defaultBranch: string;
  /**
   * Environment a job needs so @actions/cache (v2) and @actions/artifact talk to this stand-in.
   * `ref` is the run's ref (default: the default branch); `baseRef` a pull request's base branch.
   */
  jobEnv(runId?: string, jobId?: string, scope?: { ref?: string; baseRef?: string }): Record<string, string>;
  /** Cache entries currently committed (key, version, size, and the ref whose run wrote it), for assertions. */
  cacheEntries(): Array<{ key: string; version: string; sizeBytes: number; ref: string }>;
  /**
   * Deletes the entries with this key, as GitHub's REST API does (DELETE
   * /repos/{owner}/{repo}/actions/caches?key=…, every version and ref), or as eviction would.
   * Returns how many went.
   */
  deleteCacheEntry(key: string): number;
  /** Artifacts finalized so far. */
  artifacts(): Array<{ id: number; name: string; size: number; runId: string; jobId: string }>;
  stop(): Promise<void>;
}

// Azurite's well-known development account (published in Azurite's README; not a secret).
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CACHE_CONTAINER = 'actions-cache';
const ARTIFACT_CONTAINER = 'actions-results';
// Sign SAS tokens for a service version Azurite knows, so that its string-to-sign stays the
// SDK's even when a newer SDK defaults to a version newer than the installed Azurite.
const SAS_VERSION = '2025-01-05';
const SAS_LIFETIME_MS = 6 * 60 * 60 * 1000;

const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';
const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';

interface CacheEntry {
  id: number;
  /** The ref of the run that wrote it: GitHub's cache scope. */
  ref: string;
  key: string;
  version: string;
  blobName: string;
  sizeBytes: number;
  committedAt: number;
}

interface ArtifactRecord {
  id: number;
  runId: string;
  jobId: string;
  name: string;
  blobName: string;
  size: number;
  digest: string | undefined;
  createdAt: Date | undefined; // set on finalize
  finalized: boolean;
}

/** A Twirp error: the clients read `msg` from the JSON body and decide on retries by status. */
class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

function str(body: Json, field: string): string {
  const v = body[field];
  return typeof v === 'string' ? v : '';
}

// int64 arrives as a JSON string ("123"); accept a number too.
function int(body: Json, field: string): number {
  const v = body[field];
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : 0;
  return Number.isFinite(n) ? n : 0;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The claims of a runtime token this stand-in signed, or undefined when the signature does not verify. */
function verifiedClaims(token: string, key: Buffer): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || signature === undefined) return undefined;
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `Actions.Results:<run>:<job>` scope of a runtime token, if it carries one. */
function resultsScope(claims: Record<string, unknown> | undefined): { runId: string; jobId: string } | undefined {
  if (typeof claims?.scp !== 'string') return undefined;
  for (const scope of claims.scp.split(' ')) {
    const parts = scope.split(':');
    if (parts[0] === 'Actions.Results' && parts.length === 3) return { runId: parts[1]!, jobId: parts[2]! };
  }
  return undefined;
}

// The token's access controls (`ac`), as GitHub issues them: the run's own ref with read and
// write, the refs it may also read (a pull request's base branch, the default branch) read-only.
const READ = 1;
const WRITE = 2;
interface CacheAccess {
  /** Refs to search, in order: the run's own first. */
  read: string[];
  write: string;
}

function cacheAccess(claims: Record<string, unknown> | undefined): CacheAccess | undefined {
  if (typeof claims?.ac !== 'string') return undefined;
  let scopes: unknown;
  try {
    scopes = JSON.parse(claims.ac);
  } catch {
    return undefined;
  }
  if (!Array.isArray(scopes)) return undefined;
  const valid = scopes.filter((s): s is { Scope: string; Permission: number } => typeof s?.Scope === 'string' && typeof s?.Permission === 'number');
  const write = valid.find((s) => s.Permission & WRITE)?.Scope;
  if (!write) return undefined;
  return { write, read: valid.filter((s) => s.Permission & READ).map((s) => s.Scope) };
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new TwirpError(400, 'malformed', 'request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Json;
  } catch (e) {
    throw new TwirpError(400, 'malformed', `request body is not a JSON object: ${(e as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

/** Start Azurite's blob service on a free port and resolve once it listens. */
async function startAzurite(location: string): Promise<{ child: ChildProcess; url: string }> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('azurite/dist/src/blob/main.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--blobHost', '127.0.0.1',
      '--blobPort', '0', // Azurite reports the port the OS picked
      '--location', location,
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stderr?.on('data', collect);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('timed out after 30s')), 30_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`Azurite blob service did not start: ${err.message}\n${output}`));
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(new Error(`exited early (code ${code}, signal ${signal})`));
    const onStdout = (chunk: Buffer): void => {
      collect(chunk);
      const m = /successfully listens on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', fail);
        child.stdout?.off('data', onStdout);
        // Keep draining its output so a chatty Azurite can never block on a full pipe.
        child.stdout?.on('data', collect);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout?.on('data', onStdout);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') {
      console.error(`actions-services: Azurite exited unexpectedly (code ${code}, signal ${signal})\n${output}`);
    }
  });
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export async function startActionsServices(opts: { dataDir?: string; defaultBranch?: string } = {}): Promise<ActionsServices> {
  const defaultBranch = opts.defaultBranch ?? 'refs/heads/main';
  // Runtime tokens are signed (HS256) with a key of this instance, so a test cannot widen a token's scopes by editing it.
  const tokenKey = randomBytes(32);
  const ownDir = opts.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'actions-services-')) : undefined;
  const location = join(opts.dataDir ?? (ownDir as string), 'azurite');
  await mkdir(location, { recursive: true });

  const azurite = await startAzurite(location);
  // A crashed or forgotten test must not leave Azurite running.
  const killOnExit = (): void => {
    azurite.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let server: Server | undefined;
  try {
    const credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY);
    const blobService = new BlobServiceClient(`${azurite.url}/${DEV_ACCOUNT}`, credential);
    const cacheContainer = blobService.getContainerClient(CACHE_CONTAINER);
    const artifactContainer = blobService.getContainerClient(ARTIFACT_CONTAINER);
    await cacheContainer.createIfNotExists();
    await artifactContainer.createIfNotExists();

    const sasUrl = (
      container: ContainerClient,
      blobName: string,
      permissions: string,
      contentDisposition?: string,
    ): string => {
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container.containerName,
          blobName,
          permissions: BlobSASPermissions.parse(permissions),
          startsOn: new Date(Date.now() - 5 * 60 * 1000), // tolerate clock skew like the real service
          expiresOn: new Date(Date.now() + SAS_LIFETIME_MS),
          version: SAS_VERSION,
          contentDisposition,
        },
        credential,
      ).toString();
      return `${container.getBlockBlobClient(blobName).url}?${sas}`;
    };

    let nextId = 1;
    // Cache: committed entries, and reservations (CreateCacheEntry) awaiting their upload.
    const committed: CacheEntry[] = [];
    const reserved = new Map<string, CacheEntry>();
    const cacheSlot = (ref: string, key: string, version: string): string => `${ref}\u0000${version}\u0000${key}`;
    // Artifacts, pending or finalized, keyed by (run, name): a name is unique within a run.
    const artifactsByRunName = new Map<string, ArtifactRecord>();
    const artifactSlot = (runId: string, name: string): string => `${runId}\u0000${name}`;

    // GitHub's rule: a run writes to its own ref's scope, and reads its own ref's entries, then
    // those of the refs its token lets it read (a pull request's base, the default branch).
    const cacheMethods: Record<string, (body: Json, access: CacheAccess) => Promise<Json>> = {
      async CreateCacheEntry(body, access) {
        const key = str(body, 'key');
        const version = str(body, 'version');
        if (!key || !version) throw new TwirpError(400, 'invalid_argument', 'key and version are required');
        // Like GitHub: a committed (key, version) is immutable within its ref's scope.
        if (committed.some((e) => e.ref === access.write && e.key === key && e.version === version)) {
          return { ok: false, signed_upload_url: '', message: `cache entry with key ${key} and version ${version} already exists` };
        }
        // A reservation left by an interrupted job is simply replaced.
        const id = nextId++;
        const entry: CacheEntry = { id, ref: access.write, key, version, blobName: `${id}/cache`, sizeBytes: 0, committedAt: 0 };
        reserved.set(cacheSlot(access.write, key, version), entry);
        return { ok: true, signed_upload_url: sasUrl(cacheContainer, entry.blobName, 'cw'), message: '' };
      },

      async FinalizeCacheEntryUpload(body, access) {
        const key = str(body, 'key');
        const version = str(body, 'version');
        const slot = cacheSlot(access.write, key, version);
        const entry = reserved.get(slot);
        if (!entry) return { ok: false, entry_id: '0', message: `no cache reservation for key ${key} and version ${version}` };
        const blob = cacheContainer.getBlockBlobClient(entry.blobName);
        const size = (await blob.exists()) ? ((await blob.getProperties()).contentLength ?? 0) : -1;
        const declared = int(body, 'size_bytes');
        if (size !== declared) {
          return { ok: false, entry_id: '0', message: `uploaded size ${size} does not match size_bytes ${declared}` };
        }
        reserved.delete(slot);
        entry.sizeBytes = size;
        entry.committedAt = Date.now();
        committed.push(entry);
        return { ok: true, entry_id: String(entry.id), message: '' };
      },

      async GetCacheEntryDownloadURL(body, access) {
        const key = str(body, 'key');
        const version = str(body, 'version');
        const restoreKeys = Array.isArray(body['restore_keys'])
          ? body['restore_keys'].filter((k): k is string => typeof k === 'string')
          : [];
        let match: CacheEntry | undefined;
        for (const ref of access.read) {
          // Only entries of this ref with the same version (paths + compression + OS) are candidates.
          const candidates = committed
            .filter((e) => e.ref === ref && e.version === version)
            .sort((a, b) => b.committedAt - a.committedAt || b.id - a.id); // newest first
          match =
            candidates.find((e) => e.key === key) ??
            restoreKeys.map((prefix) => candidates.find((e) => e.key.startsWith(prefix))).find((e) => e !== undefined);
          if (match) break;
        }
        if (!match) return { ok: false, signed_download_url: '', matched_key: '' };
        return { ok: true, signed_download_url: sasUrl(cacheContainer, match.blobName, 'r'), matched_key: match.key };
      },
    };

    const finalizedArtifact = (runId: string, name: string): ArtifactRecord => {
      const record = artifactsByRunName.get(artifactSlot(runId, name));
      if (!record?.finalized) throw new TwirpError(404, 'not_found', `artifact ${name} not found in run ${runId}`);
      return record;
    };

    const artifactMethods: Record<string, (body: Json) => Promise<Json>> = {
      async CreateArtifact(body) {
        const runId = str(body, 'workflow_run_backend_id');
        const jobId = str(body, 'workflow_job_run_backend_id');
        const name = str(body, 'name');
        if (!runId || !jobId || !name) {
          throw new TwirpError(400, 'invalid_argument', 'workflow_run_backend_id, workflow_job_run_backend_id and name are required');
        }
        const existing = artifactsByRunName.get(artifactSlot(runId, name));
        if (existing?.finalized) {
          throw new TwirpError(409, 'already_exists', `an artifact with the name ${name} already exists on the workflow run`);
        }
        const id = nextId++;
        const record: ArtifactRecord = {
          id, runId, jobId, name, blobName: `${runId}/${id}/${name}`,
          size: 0, digest: undefined, createdAt: undefined, finalized: false,
        };
        artifactsByRunName.set(artifactSlot(runId, name), record);
        return { ok: true, signed_upload_url: sasUrl(artifactContainer, record.blobName, 'cw') };
      },

      async FinalizeArtifact(body) {
        const runId = str(body, 'workflow_run_backend_id');
        const name = str(body, 'name');
        const record = artifactsByRunName.get(artifactSlot(runId, name));
        if (!record || record.finalized) throw new TwirpError(404, 'not_found', `no pending upload of artifact ${name} in run ${runId}`);
        if (!(await artifactContainer.getBlockBlobClient(record.blobName).exists())) {
          throw new TwirpError(400, 'failed_precondition', `artifact ${name} was never uploaded`);
        }
        record.size = int(body, 'size');
        const hash = body['hash'];
        record.digest = typeof hash === 'string' && hash !== '' ? hash : undefined;
        record.createdAt = new Date();
        record.finalized = true;
        return { ok: true, artifact_id: String(record.id) };
      },

      async ListArtifacts(body) {
        const runId = str(body, 'workflow_run_backend_id');
        const nameFilter = body['name_filter'];
        const idFilter = body['id_filter'];
        // All jobs of a run see each other's artifacts; other runs see none of them.
        const artifacts = [...artifactsByRunName.values()]
          .filter((a) => a.finalized && a.runId === runId)
          .filter((a) => typeof nameFilter !== 'string' || a.name === nameFilter)
          .filter((a) => idFilter === undefined || idFilter === null || String(a.id) === String(idFilter))
          .sort((a, b) => a.id - b.id)
          .map((a) => ({
            workflow_run_backend_id: a.runId,
            workflow_job_run_backend_id: a.jobId,
            database_id: String(a.id),
            name: a.name,
            size: String(a.size),
            created_at: (a.createdAt ?? new Date()).toISOString(),
            ...(a.digest !== undefined ? { digest: a.digest } : {}),
          }));
        return { artifacts };
      },

      async GetSignedArtifactURL(body) {
        const record = finalizedArtifact(str(body, 'workflow_run_backend_id'), str(body, 'name'));
        // The downloader names a non-zip artifact after Content-Disposition; zips go by Content-Type.
        const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(record.name)}`;
        return { signed_url: sasUrl(artifactContainer, record.blobName, 'r', disposition) };
      },

      async DeleteArtifact(body) {
        const record = finalizedArtifact(str(body, 'workflow_run_backend_id'), str(body, 'name'));
        await artifactContainer.getBlockBlobClient(record.blobName).deleteIfExists();
        artifactsByRunName.delete(artifactSlot(record.runId, record.name));
        return { ok: true, artifact_id: String(record.id) };
      },
    };

    const services: Record<string, Record<string, (body: Json, access: CacheAccess) => Promise<Json>>> = {
      [CACHE_SERVICE]: cacheMethods,
      [ARTIFACT_SERVICE]: artifactMethods,
    };

    const handle = async (req: IncomingMessage): Promise<Json> => {
      const m = /^\/twirp\/([^/]+)\/([^/?]+)(?:\?.*)?$/.exec(req.url ?? '');
      const method = m ? services[m[1]!]?.[m[2]!] : undefined;
      if (req.method !== 'POST' || !m || !method) {
        throw new TwirpError(404, 'bad_route', `no handler for ${req.method} ${req.url}`);
      }
      const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!auth) throw new TwirpError(401, 'unauthenticated', 'missing or malformed Authorization: Bearer token');
      const claims = verifiedClaims(auth[1]!, tokenKey);
      if (!claims) throw new TwirpError(401, 'unauthenticated', 'the runtime token was not issued by this service (bad signature)');
      const access = cacheAccess(claims);
      if (m[1] === CACHE_SERVICE && !access) throw new TwirpError(403, 'permission_denied', 'the runtime token grants no cache scope');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (contentType !== 'application/json') {
        throw new TwirpError(400, 'malformed', `only application/json is supported, got ${contentType || 'none'}`);
      }
      const body = await readJson(req);
      // A token scoped to one run may not act on another run's artifacts.
      const scope = resultsScope(claims);
      const runId = body['workflow_run_backend_id'];
      if (m[1] === ARTIFACT_SERVICE && scope && typeof runId === 'string' && runId !== scope.runId) {
        throw new TwirpError(403, 'permission_denied', `token is scoped to run ${scope.runId}, not ${runId}`);
      }
      return method(body, access ?? { read: [], write: '' });
    };

    server = createServer((req, res) => {
      handle(req).then(
        (body) => send(res, 200, body),
        (err: unknown) => {
          if (err instanceof TwirpError) {
            send(res, err.status, { code: err.code, msg: err.message });
          } else {
            console.error('actions-services: internal error:', err);
            send(res, 500, { code: 'internal', msg: err instanceof Error ? err.message : String(err) });
          }
        },
      );
    });
    const httpServer = server;
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(0, '127.0.0.1', () => resolve());
    });
    const resultsUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/`;
    const defaultRunId = randomUUID();

    return {
      resultsUrl,
      defaultBranch,

      jobEnv(runId = defaultRunId, jobId = randomUUID(), { ref = defaultBranch, baseRef }: { ref?: string; baseRef?: string } = {}) {
        if (/[\s:]/.test(runId) || /[\s:]/.test(jobId) || !runId || !jobId) {
          throw new Error(`run and job ids must be non-empty without spaces or colons: ${runId} ${jobId}`);
        }
        const now = Math.floor(Date.now() / 1000);
        const readOnly = [...new Set([baseRef, defaultBranch].filter((r): r is string => !!r && r !== ref))];
        const ac = [{ Scope: ref, Permission: READ | WRITE }, ...readOnly.map((r) => ({ Scope: r, Permission: READ }))];
        // @actions/artifact only decodes it (jwt-decode) to read the run and job backend ids from
        // the Actions.Results scope; @actions/cache sends it as is; BuildKit reads the cache
        // scopes from `ac`. This service checks its signature and takes the scopes from it.
        const unsigned = [
          base64url({ alg: 'HS256', typ: 'JWT' }),
          base64url({
            iss: 'actions-services-stand-in',
            aud: 'vso:actions-services-stand-in',
            scp: `Actions.GenericRead:00000000-0000-0000-0000-000000000000 Actions.Results:${runId}:${jobId}`,
            ac: JSON.stringify(ac),
            nbf: now - 60,
            iat: now - 60,
            exp: now + 6 * 60 * 60,
          }),
        ].join('.');
        const token = `${unsigned}.${createHmac('sha256', tokenKey).update(unsigned).digest('base64url')}`;
        return {
          ACTIONS_RESULTS_URL: resultsUrl,
          // v2 is the results/Twirp protocol; without it @actions/cache speaks the retired v1 API.
          ACTIONS_CACHE_SERVICE_V2: 'true',
          // Both libraries treat any other host as GHES (no v2 cache, artifact client refuses).
          GITHUB_SERVER_URL: 'https://github.com',
          ACTIONS_RUNTIME_TOKEN: token,
          // Present on real runners; neither library reads it in the v2 code paths.
          ACTIONS_RUNTIME_URL: resultsUrl,
        };
      },

      cacheEntries() {
        return committed.map((e) => ({ key: e.key, version: e.version, sizeBytes: e.sizeBytes, ref: e.ref }));
      },
      deleteCacheEntry(key: string) {
        const before = committed.length;
        for (let i = committed.length - 1; i >= 0; i--) if (committed[i]!.key === key) committed.splice(i, 1);
        return before - committed.length;
      },

      artifacts() {
        return [...artifactsByRunName.values()]
          .filter((a) => a.finalized)
          .sort((a, b) => a.id - b.id)
          .map((a) => ({ id: a.id, name: a.name, size: a.size, runId: a.runId, jobId: a.jobId }));
      },

      async stop() {
        httpServer.closeAllConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await stopChild(azurite.child);
        process.removeListener('exit', killOnExit);
        if (ownDir) await rm(ownDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    server?.close();
    await stopChild(azurite.child);
    process.removeListener('exit', killOnExit);
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
    throw err;
  }
}
