// zip/wheel/jar files read as they stream past: only the tail is kept (bounded), where the central
// directory lists every member with its time, compression and CRC. Two archives are then told
// apart by member timestamps, member order, compression and member content, each named.
import type { FileDifference } from './file-compare.js';
import type { ZipMember, ZipSummary } from './types.js';

/** The central directory must fit in this many trailing bytes (a 2,000-member wheel needs ~200 KiB). */
export const ZIP_TAIL = 4 << 20;
const MAX_MEMBERS = 200_000;
const EXAMPLES = 3;

export class ZipProbe {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;

  data(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(Buffer.from(chunk.length > ZIP_TAIL ? chunk.subarray(chunk.length - ZIP_TAIL) : chunk));
    this.kept += this.chunks[this.chunks.length - 1]!.length;
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= ZIP_TAIL) this.kept -= this.chunks.shift()!.length;
  }

  finish(): ZipSummary | undefined {
    const tail = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return parseCentralDirectory(tail, this.total);
  }
}

/** Parses the central directory found in `tail`, the last bytes of a file of `size` bytes. */
export function parseCentralDirectory(tail: Buffer, size: number): ZipSummary | undefined {
  const tailStart = size - tail.length;
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
  let eocd = -1;
  for (let i = tail.length - 22; i >= Math.max(0, tail.length - 22 - 0xffff); i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) return undefined;
  let entries = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if ((entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && tail.readUInt32LE(eocd - 20) === 0x07064b50) {
    const at = Number(tail.readBigUInt64LE(eocd - 12)) - tailStart;
    if (at < 0 || at + 56 > tail.length || tail.readUInt32LE(at) !== 0x06064b50) return undefined;
    entries = Number(tail.readBigUInt64LE(at + 32));
    cdSize = Number(tail.readBigUInt64LE(at + 40));
    cdOffset = Number(tail.readBigUInt64LE(at + 48));
  }
  let at = cdOffset - tailStart;
  if (at < 0 || at + cdSize > tail.length) return undefined;
  const members: ZipMember[] = [];
  const end = at + cdSize;
  for (let n = 0; n < entries && at + 46 <= end; n++) {
    if (tail.readUInt32LE(at) !== 0x02014b50) return undefined;
    const method = tail.readUInt16LE(at + 10);
    const dos = tail.readUInt32LE(at + 12);
    const crc = tail.readUInt32LE(at + 16);
    let csize = tail.readUInt32LE(at + 20);
    const usize = tail.readUInt32LE(at + 24);
    const nameLength = tail.readUInt16LE(at + 28);
    const extraLength = tail.readUInt16LE(at + 30);
    const commentLength = tail.readUInt16LE(at + 32);
    const name = tail.toString('utf8', at + 46, at + 46 + nameLength);
    let unix = -1;
    const extraEnd = Math.min(end, at + 46 + nameLength + extraLength);
    for (let x = at + 46 + nameLength; x + 4 <= extraEnd; ) {
      const id = tail.readUInt16LE(x);
      const length = tail.readUInt16LE(x + 2);
      if (id === 0x5455 && length >= 5 && (tail[x + 4]! & 1) !== 0 && x + 9 <= extraEnd) unix = tail.readUInt32LE(x + 5);
      if (id === 0x0001 && csize === 0xffffffff) {
        const skip = usize === 0xffffffff ? 8 : 0;
        if (x + 4 + skip + 8 <= extraEnd) csize = Number(tail.readBigUInt64LE(x + 4 + skip));
      }
      x += 4 + length;
    }
    if (members.length < MAX_MEMBERS) members.push([name, dos, method, crc, csize, unix]);
    at += 46 + nameLength + extraLength + commentLength;
  }
  const summary: ZipSummary = { members };
  if (entries > members.length) summary.truncated = true;
  return summary;
}

/** A DOS date/time as "2026-12-01 10:22:04". */
export function dosTime(dos: number): string {
  const date = dos >>> 16;
  const time = dos & 0xffff;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${((date >> 9) & 0x7f) + 1980}-${two((date >> 5) & 0xf)}-${two(date & 0x1f)} ${two(time >> 11)}:${two((time >> 5) & 0x3f)}:${two((time & 0x1f) * 2)}`;
}

const list = (names: string[]): string => {
  const shown = names.slice(0, EXAMPLES).map((n) => `\`${n}\``).join(', ');
  return names.length > EXAMPLES ? `${shown} and ${names.length - EXAMPLES} more` : shown;
};

/**
 * One difference per aspect that differs (content, order, compression, timestamps), or none
 * when every member matches (the archive differs elsewhere: extra fields, attributes, comment).
 */
export function compareZip(a: ZipSummary, b: ZipSummary): FileDifference[] {
  const inA = new Map(a.members.map((m) => [m[0], m]));
  const inB = new Map(b.members.map((m) => [m[0], m]));
  const onlyA = a.members.filter((m) => !inB.has(m[0])).map((m) => m[0]);
  const onlyB = b.members.filter((m) => !inA.has(m[0])).map((m) => m[0]);
  const content: string[] = [];
  const compression: string[] = [];
  const times: Array<[string, string, string]> = [];
  for (const x of a.members) {
    const y = inB.get(x[0]);
    if (!y) continue;
    if (x[3] !== y[3]) content.push(x[0]);
    else if (x[2] !== y[2] || x[4] !== y[4]) compression.push(x[0]);
    if (x[1] !== y[1] || x[5] !== y[5]) {
      const dos = x[1] !== y[1];
      times.push([x[0], dos ? dosTime(x[1]) : `unix ${x[5]}`, dos ? dosTime(y[1]) : `unix ${y[5]}`]);
    }
  }
  const total = a.members.length;
  const out: FileDifference[] = [];
  if (content.length > 0 || onlyA.length > 0 || onlyB.length > 0) {
    const parts: string[] = [];
    if (content.length > 0) parts.push(`${content.length} member${content.length === 1 ? '' : 's'} with other content: ${list(content)}`);
    if (onlyA.length > 0) parts.push(`only in A: ${list(onlyA)}`);
    if (onlyB.length > 0) parts.push(`only in B: ${list(onlyB)}`);
    out.push({ kind: 'zip-content', field: 'zip member content', a: content.length + onlyA.length, b: content.length + onlyB.length, detail: parts.join('; ') });
  }
  const common = (members: ZipMember[], other: Map<string, ZipMember>): string[] => members.filter((m) => other.has(m[0])).map((m) => m[0]);
  const orderA = common(a.members, inB);
  const orderB = common(b.members, inA);
  const firstOut = orderA.findIndex((name, i) => name !== orderB[i]);
  if (firstOut !== -1) {
    out.push({ kind: 'zip-order', field: 'zip member order', a: orderA[firstOut]!, b: orderB[firstOut]!, detail: `member ${firstOut + 1} is \`${orderA[firstOut]}\` in A and \`${orderB[firstOut]}\` in B` });
  }
  if (compression.length > 0) {
    out.push({ kind: 'zip-compression', field: 'zip member compression', a: compression.length, b: compression.length, detail: `${compression.length} member${compression.length === 1 ? '' : 's'} with equal data compressed differently: ${list(compression)}` });
  }
  if (times.length > 0) {
    const [name, x, y] = times[0]!;
    out.push({
      kind: 'zip-timestamps',
      field: 'zip member timestamps',
      a: x,
      b: y,
      detail: `${times.length} of ${total} members have other times, e.g. \`${name}\`: ${x} → ${y}`,
    });
  }
  return out;
}
