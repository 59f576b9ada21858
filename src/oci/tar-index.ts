// Random access into a plain tar file without extracting it: one pass over the headers, seeking
// over the bodies (a multi-GB OCI archive holds a few dozen members, so this reads a few KiB).
// Header parsing is the suite's TarParser, fed one header (plus any pax/long-name body) at a time,
// so its metadata cap holds here too; the member list is capped at LIMITS.archiveMembers.
import type { FileHandle } from 'node:fs/promises';
import { LIMITS } from './bounds.js';
import { TarFormatError, TarParser, type TarEntry, type TarEntryType } from './tar.js';

export interface TarMember {
  name: string;
  type: TarEntryType;
  /** Byte offset of the body in the tar file. */
  offset: number;
  size: number;
  linkname: string;
}

const BLOCK = 512;

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** The size field of a raw header (octal, or GNU base-256). */
function headerSize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let value = 0;
    for (let i = 125; i < 136; i++) value = value * 256 + h[i]!;
    return value;
  }
  const text = h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/**
 * Lists the members of the tar file open as `handle` (later members with the same name win, as
 * when extracting). Throws TarFormatError when a header is corrupt or the file ends inside a member.
 */
export async function indexTar(handle: FileHandle, fileSize: number): Promise<{ members: Map<string, TarMember>; bytesRead: number }> {
  const members = new Map<string, TarMember>();
  let found: TarEntry | undefined;
  const visitor = (entry: TarEntry): undefined => {
    found = entry;
    return undefined;
  };
  let parser = new TarParser(visitor);
  let pos = 0;
  let bytesRead = 0;
  let entries = 0;
  const header = Buffer.alloc(BLOCK);
  const readAt = async (buffer: Buffer, at: number): Promise<void> => {
    const { bytesRead: n } = await handle.read(buffer, 0, buffer.length, at);
    bytesRead += n;
    if (n !== buffer.length) throw new TarFormatError('archive is truncated (it ends inside a header or an entry)');
  };
  while (pos < fileSize) {
    if (fileSize - pos < BLOCK) throw new TarFormatError('archive is truncated (it ends inside a header)');
    await readAt(header, pos);
    if (header.every((b) => b === 0)) {
      parser.push(header);
      pos += BLOCK;
      if (parser.ended) break;
      continue;
    }
    const size = headerSize(header);
    found = undefined;
    parser.push(header); // throws on a bad checksum
    if (found) {
      const entry = found as TarEntry;
      const offset = pos + BLOCK;
      if (offset + entry.size > fileSize) {
        throw new TarFormatError(`archive is truncated (${entry.name} needs ${entry.size} bytes, ${Math.max(0, fileSize - offset)} remain)`);
      }
      if (++entries > LIMITS.archiveMembers) throw tooManyMembers();
      members.set(entry.name, { name: entry.name, type: entry.type, offset, size: entry.size, linkname: entry.linkname });
      pos = offset + padded(entry.size);
      parser = new TarParser(visitor, parser);
      continue;
    }
    // A pax header or a GNU long name (the parser has checked its size): its body belongs to the next header.
    const body = Buffer.alloc(padded(size));
    if (body.length > 0) await readAt(body, pos + BLOCK);
    parser.push(body);
    pos += BLOCK + body.length;
  }
  return { members, bytesRead };
}

export function tooManyMembers(): TarFormatError {
  return new TarFormatError(`more than ${LIMITS.archiveMembers} members: an image archive holds a few dozen (a layer's files are inside its layer blobs)`);
}

/** Follows symlinks/hardlinks between members (docker save links layer.tar files to shared blobs). */
export function resolveMember(members: Map<string, TarMember>, name: string): TarMember | undefined {
  let member = members.get(name);
  for (let hops = 0; member && (member.type === 'symlink' || member.type === 'hardlink') && hops < 16; hops++) {
    const target = member.type === 'hardlink' ? member.linkname : joinRelative(member.name, member.linkname);
    member = members.get(target.replace(/^\.\//, ''));
  }
  return member && member.type === 'file' ? member : undefined;
}

export function joinRelative(from: string, link: string): string {
  if (link.startsWith('/')) return link.slice(1);
  const parts = from.split('/').slice(0, -1);
  for (const part of link.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}
