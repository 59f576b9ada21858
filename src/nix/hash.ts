// Nix hash formats. `nix path-info --json` gives narHash as "sha256:<nix base32>" before 2.16-ish
// and as SRI "sha256-<base64>" after; outputs always use SRI so they compare across versions.

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Decodes Nix's base32 (its own alphabet, least significant bits first). */
export function decodeNixBase32(text: string): Buffer {
  const length = Math.floor((text.length * 5) / 8);
  const bytes = Buffer.alloc(length);
  for (let n = 0; n < text.length; n++) {
    const digit = NIX_BASE32.indexOf(text[text.length - n - 1]!);
    if (digit < 0) throw new Error(`invalid Nix base32 character in ${text}`);
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    bytes[i] = (bytes[i]! | (digit << j)) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < length) bytes[i + 1] = (bytes[i + 1]! | carry) & 0xff;
    else if (carry) throw new Error(`invalid Nix base32 hash ${text}`);
  }
  return bytes;
}

/** Any of sha256:<base32>, sha256:<hex>, sha256-<base64> → sha256-<base64>. */
export function toSri(hash: string): string {
  if (/^sha256-[A-Za-z0-9+/]{43}=$/.test(hash)) return hash;
  const match = /^sha256:([0-9a-z]+)$/.exec(hash);
  if (!match) throw new Error(`unrecognised hash ${hash}`);
  const body = match[1]!;
  const bytes = body.length === 64 ? Buffer.from(body, 'hex') : decodeNixBase32(body);
  if (bytes.length !== 32) throw new Error(`unrecognised sha256 hash ${hash}`);
  return `sha256-${bytes.toString('base64')}`;
}
