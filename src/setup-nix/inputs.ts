// setup-nix inputs, parsed once.
import { InputError, list, optionalString, type InputSource } from '../action/inputs.js';
import { checkConfLines } from '../nix/conf.js';
import { isPublicKey } from '../nix/keys.js';

export interface SetupNixInputs {
  nixVersion?: string;
  extraConf: string;
  substituters: string[];
  trustedPublicKeys: string[];
  githubToken?: string;
  netrc?: string;
  installUrl?: string;
}

const URL_LIKE = /^(https?|file|s3|ssh|ssh-ng|daemon|local):\/\/\S+|^(daemon|local|auto)$/;

export function parseSetupNixInputs(get: InputSource): SetupNixInputs {
  const extraConf = get('extra-conf');
  const bad = checkConfLines(extraConf);
  if (bad) throw new InputError('extra-conf', `line ${bad.line} ('${bad.text}'): ${bad.reason}. Each line must be "name = value", a comment or blank.`);

  const substituters = list(get, 'substituters');
  for (const s of substituters) {
    if (!URL_LIKE.test(s)) throw new InputError('substituters', `'${s}' is not a binary cache URL (https://…, file://…, s3://…)`);
  }
  const trustedPublicKeys = list(get, 'trusted-public-keys');
  for (const k of trustedPublicKeys) {
    if (!isPublicKey(k)) throw new InputError('trusted-public-keys', `'${k}' is not a public key of the form name:base64 (e.g. cache.example.org-1:…=)`);
  }
  const nixVersion = optionalString(get, 'nix-version');
  if (nixVersion !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(nixVersion)) {
    throw new InputError('nix-version', `must be a Nix release such as 2.28.3 (got '${nixVersion}')`);
  }
  const installUrl = optionalString(get, 'install-url');
  if (installUrl !== undefined && !isHttpsUrl(installUrl)) {
    throw new InputError('install-url', `must be an https:// URL: the installer is code run on this machine (got '${installUrl}')`);
  }
  return {
    nixVersion,
    extraConf,
    substituters,
    trustedPublicKeys,
    githubToken: optionalString(get, 'github-token'),
    netrc: optionalString(get, 'netrc'),
    installUrl,
  };
}

function isHttpsUrl(text: string): boolean {
  try {
    return new URL(text).protocol === 'https:';
  } catch {
    return false;
  }
}
