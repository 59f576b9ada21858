// Nix binary-cache keys: "name:base64", a 32-byte ed25519 public key or a 64-byte secret key.

const PUBLIC_KEY = /^[^\s:]+:[A-Za-z0-9+/]{43}=$/;

export function isPublicKey(text: string): boolean {
  return PUBLIC_KEY.test(text);
}

export function isSecretKey(text: string): boolean {
  const colon = text.indexOf(':');
  if (colon <= 0) return false;
  const body = text.slice(colon + 1).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return false;
  return Buffer.from(body, 'base64').length === 64;
}
