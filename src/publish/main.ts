// publish, main phase: mask secrets → inputs → source loaded and every blob verified → push
// (blobs, manifest by digest, read back, tags) → sign → attest → outputs + summary.
import * as core from '@actions/core';
import { logInfo } from '../action/log.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { actionIO, type StageIO } from '../action/io.js';
import type { InputSource } from '../action/inputs.js';
import { stageTempDir, workspaceDir } from '../action/paths.js';
import { registerSecret } from '../action/secrets.js';
import { registryLogin, type RegistryLogin } from '../action/registry-login.js';
import { StageFailure } from '../action/stage.js';
import { RegistryClient, type ClientOptions } from '../registry/client.js';
import { downloadBlob, headManifest } from '../registry/api.js';
import { cosignAttest, cosignSign, type CosignOptions } from '../registry/cosign.js';
import { capture } from '../tool/capture.js';
import { pushImage } from '../registry/push.js';
import { sameRegistry } from '../registry/reference.js';
import { annotate, imageSize, loadSource, topManifest } from '../registry/source.js';
import { attestImage, attestPredicate } from './attest.js';
import { gatherEvidence, writePredicate, type Evidence } from './evidence.js';
import { writeCredentialsDir, type CredentialsDir } from './credentials.js';
import { manifestAnnotations } from './oci-annotations.js';
import { parsePublishInputs, SECRET_INPUTS, type PublishInputs } from './inputs.js';
import { saveTempDir } from './state.js';
import { writePublishSummary } from './summary.js';

/** The outputs action.yml declares, claimed before main runs (src/action/claims.ts). */
export const OUTPUTS = ['digest', 'refs', 'signature', 'attestation-url', 'attestations'] as const;

export async function main(io: StageIO = actionIO): Promise<void> {
  maskSecrets(io.get);
  const inputs = parsePublishInputs(io.get, {
    ref: process.env.GITHUB_REF ?? '',
    sha: process.env.GITHUB_SHA ?? '',
    workspace: workspaceDir(),
  });

  // One directory per run for everything secret or large; post removes it whatever happens here.
  const temp = join(stageTempDir('publish'), `run-${process.pid}-${Date.now()}`);
  await mkdir(temp, { recursive: true, mode: 0o700 });
  saveTempDir(temp);
  try {
    await publish(inputs, temp, io);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function maskSecrets(get: InputSource): void {
  for (const name of SECRET_INPUTS) {
    const value = get(name);
    if (!value) continue;
    registerSecret(value);
    for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) registerSecret(line.trim());
  }
}

function clientFor(host: string, inputs: PublishInputs, login: RegistryLogin): RegistryClient {
  const options: ClientOptions = { onRetry: (message) => core.warning(message) };
  if (sameRegistry(host, inputs.registry)) {
    options.credentials = login.credentials;
    options.missingCredentials = login.missing;
  }
  return new RegistryClient(host, options);
}

/** What signing and attesting need, checked before anything is read or pushed. */
async function preflight(inputs: PublishInputs): Promise<void> {
  const oidc = Boolean(process.env.ACTIONS_ID_TOKEN_REQUEST_URL && process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  const needs = [inputs.sign === 'cosign-keyless' ? 'sign: cosign-keyless' : '', inputs.attest ? 'attest: true' : ''].filter(Boolean);
  if (needs.length && !oidc) {
    throw new StageFailure('No OIDC token', `${needs.join(' and ')} ${needs.length > 1 ? 'need' : 'needs'} the job's OIDC token: give the job \`permissions: id-token: write\`${inputs.attest ? ' and `attestations: write`' : ''}`);
  }
  if (inputs.sign !== 'none') {
    const version = await capture('cosign', ['version']).catch((error: Error) => ({ exitCode: 127, stdout: '', stderr: error.message }));
    if (version.exitCode !== 0) throw new StageFailure('cosign missing', `sign: ${inputs.sign} needs cosign on PATH (e.g. sigstore/cosign-installer before this step): ${version.stderr.trim().split('\n').pop()}`);
  }
}

async function publish(inputs: PublishInputs, temp: string, io: StageIO): Promise<void> {
  await preflight(inputs);
  // The inputs' credentials, else the login already in the Docker config (docker/login-action).
  const login = await registryLogin(inputs.registry, inputs.credentials);
  const target = clientFor(inputs.image.host, inputs, login);
  const name = `${inputs.image.host}/${inputs.image.path}`;

  // The documents are checked against their digests here; each blob as it is uploaded (a blob whose
  // bytes do not match fails the step before any manifest is pushed).
  const sourceClient = inputs.source.kind === 'registry' ? (sameRegistry(inputs.source.repository.host, inputs.image.host) ? target : clientFor(inputs.source.repository.host, inputs, login)) : undefined;
  const loaded = await core.group('Reading the source image', () =>
    loadSource(inputs.source, {
      staging: join(temp, 'blobs'),
      sourceClient,
      sameRegistry: inputs.source.kind === 'registry' && sameRegistry(inputs.source.repository.host, inputs.image.host),
    }),
  );
  const sourceDigest = topManifest(loaded).digest;
  const image = annotate(loaded, await manifestAnnotations(inputs, loaded));
  const digest = topManifest(image).digest;
  logInfo(`${loaded.label} (${loaded.kind}): ${sourceDigest}, ${loaded.blobs.length} blobs, ${imageSize(loaded)} bytes`);
  if (digest !== sourceDigest) core.notice(`The annotations make a new manifest: ${name}@${digest} (the source is ${sourceDigest})`);

  // The evidence is read and checked before anything is pushed: a bad report fails the step with
  // nothing in the registry.
  const evidence: Evidence[] = inputs.evidence && (inputs.sign !== 'none' || inputs.attest)
    ? await core.group('Reading the evidence (SBOM, reports)', () =>
        gatherEvidence({
          source: inputs.source,
          loaded,
          sourceDigest,
          name,
          digest,
          reproducibilityReport: inputs.reproducibilityReport,
          smokeTestReport: inputs.smokeTestReport,
          fetchBlob: (d, file) => {
            if (inputs.source.kind !== 'registry' || !sourceClient) throw new StageFailure('SBOM failed', `blob ${d.digest} is not on this runner`);
            return downloadBlob(sourceClient, inputs.source.repository, d, file);
          },
          temp,
          tool: { name: 'vllm-rocm-action', version: process.env.GITHUB_ACTION_REF || 'local' },
        }),
      )
    : [];
  for (const e of evidence) logInfo(`evidence: ${e.label} (${e.type})`);

  // Signature and attestations are made for the digest before any tag moves: a tag never names an
  // image whose signing failed.
  let signature: string | undefined;
  let attestationUrl: string | undefined;
  const attestations: string[] = [];
  const beforeTags = async (pushedDigest: string) => {
    if (inputs.sign !== 'none') {
      signature = await sign(inputs, login, temp, `${name}@${pushedDigest}`, target);
      logInfo(`signature: ${signature}`);
      io.setOutput('signature', signature);
      if (evidence.length) attestations.push(...(await cosignEvidence(inputs, login, temp, `${name}@${pushedDigest}`, target, evidence)));
    }
    if (inputs.attest) {
      attestationUrl = await attestImage(name, pushedDigest, inputs.transparencyLog, inputs.githubToken);
      logInfo(`attestation: ${attestationUrl}`);
      io.setOutput('attestation-url', attestationUrl);
      for (const e of evidence) {
        const where = await attestPredicate({ name, digest: pushedDigest, type: e.type, predicate: e.predicate, transparencyLog: inputs.transparencyLog, token: inputs.githubToken, registry: target, repository: inputs.image, subject: { mediaType: topManifest(image).mediaType, size: topManifest(image).bytes.length } });
        logInfo(`attestation (${e.type}): ${where}`);
        attestations.push(`${e.type} ${where}`);
      }
    }
    if (attestations.length) io.setOutput('attestations', attestations.join('\n'));
  };
  const pushed = await core.group(`Pushing to ${name}`, () =>
    pushImage(target, inputs.image, image, inputs.tags, { info: (m) => logInfo(m), retry: (m) => core.warning(m) }, beforeTags),
  );
  io.setOutput('digest', pushed.digest);
  io.setOutput('refs', pushed.refs.join('\n'));

  await writePublishSummary({
    image: name,
    kind: loaded.kind,
    sourceDigest,
    digest: pushed.digest,
    refs: pushed.refs,
    sizeBytes: imageSize(image),
    uploaded: pushed.uploaded,
    mounted: pushed.mounted,
    existing: pushed.existing,
    signature,
    attestationUrl,
    evidence: evidence.map((e) => e.label),
  });
}

/** Each piece of evidence attested with cosign (the signing key or keyless); returns "type reference" lines. */
async function cosignEvidence(inputs: PublishInputs, login: RegistryLogin, temp: string, ref: string, target: RegistryClient, evidence: Evidence[]): Promise<string[]> {
  const credentials = await writeCredentialsDir(temp, inputs, login.credentials);
  const predicates = join(temp, 'predicates');
  await mkdir(predicates, { recursive: true, mode: 0o700 });
  const lines: string[] = [];
  try {
    for (const [i, e] of evidence.entries()) {
      const predicateFile = await writePredicate(predicates, i, e);
      const where = await cosignAttest({ ...(await cosignOptions(inputs, credentials, ref, target)), predicateFile, type: e.type });
      logInfo(`cosign attestation (${e.type}): ${where}`);
      lines.push(`${e.type} ${where}`);
    }
    return lines;
  } catch (error) {
    throw new StageFailure('Attestation failed', `${(error as Error).message} (${ref} is pushed by digest; no tag was pushed)`);
  } finally {
    await rm(credentials.dir, { recursive: true, force: true });
  }
}

/** What cosign needs to sign or attest `ref`: the run's key and registry credentials (writeCredentialsDir). */
async function cosignOptions(inputs: PublishInputs, credentials: CredentialsDir, ref: string, target: RegistryClient): Promise<CosignOptions> {
  return {
    ref,
    keyFile: credentials.keyFile,
    password: inputs.cosignPassword,
    transparencyLog: inputs.transparencyLog,
    http: (await target.scheme()) === 'http',
    dockerConfig: credentials.dockerConfig,
  };
}

async function sign(inputs: PublishInputs, login: RegistryLogin, temp: string, ref: string, target: RegistryClient): Promise<string> {
  const credentials = await writeCredentialsDir(temp, inputs, login.credentials);
  try {
    const signatureRef = await cosignSign(await cosignOptions(inputs, credentials, ref, target));
    // The reference cosign names, pinned to the digest the registry now serves for it.
    const at = signatureRef.lastIndexOf(':');
    const sigDigest = await headManifest(target, inputs.image, signatureRef.slice(at + 1));
    return sigDigest ? `${signatureRef}@${sigDigest}` : signatureRef;
  } catch (error) {
    throw new StageFailure('Signing failed', `${(error as Error).message} (${ref} is pushed by digest, unsigned; no tag was pushed)`);
  } finally {
    await rm(credentials.dir, { recursive: true, force: true });
  }
}
