// ELF files read as they stream past, in bounded memory: the build ID from the PT_NOTE program
// headers, `__DATE__`/`__TIME__`-shaped C strings in the read-only segments, the section table
// (captured as it passes: its offset is in the ELF header) and a digest per block, so that two
// builds of a library can be told apart by what differs: the build ID, an embedded build time, or
// named sections. No readelf: the headers are parsed here.
import { createHash, type Hash } from 'node:crypto';
import type { ElfSummary } from './types.js';
import type { FileDifference } from './file-compare.js';

/** Bytes of the file kept until the ELF and program headers are parsed. */
export const ELF_HEAD = 64 << 10;
const MAX_BLOCKS = 1024;
const MIN_BLOCK = 4096;
/** The section header table and the bytes just before it (where linkers put .shstrtab). */
const SHSTRTAB_WINDOW = 64 << 10;
const MAX_SECTION_TABLE = 1 << 20;
/** Date/time strings kept per file (a library may hold many; a few dozen bytes each). */
const MAX_TIMES = 1024;
/** How far a C string around a date/time may reach on each side. */
const STRING_REACH = 64;
const CARRY = 2 * STRING_REACH + 16;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m) => Buffer.from(`${m} `, 'latin1'));

interface Header {
  is64: boolean;
  little: boolean;
  buildId?: { offset: number; length: number };
  /** File ranges of non-writable PT_LOAD segments: where .rodata lives. */
  readOnly: Array<[number, number]>;
  shoff: number;
  shnum: number;
  shentsize: number;
  shstrndx: number;
}

function reader(elf: Buffer, little: boolean, is64: boolean) {
  const u16 = (at: number): number => (little ? elf.readUInt16LE(at) : elf.readUInt16BE(at));
  const u32 = (at: number): number => (little ? elf.readUInt32LE(at) : elf.readUInt32BE(at));
  const word = (at: number): number => (is64 ? Number(little ? elf.readBigUInt64LE(at) : elf.readBigUInt64BE(at)) : u32(at));
  return { u16, u32, word };
}

/** Finds the GNU build-id note (NT_GNU_BUILD_ID) through the PT_NOTE program headers in the first bytes of an ELF file. */
export function findBuildId(elf: Buffer): { offset: number; length: number } | undefined {
  return parseHeader(elf)?.buildId;
}

function parseHeader(elf: Buffer): Header | undefined {
  if (elf.length < 52 || elf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = elf[4] === 2;
  const little = elf[5] !== 2;
  if (is64 && elf.length < 64) return undefined;
  const { u16, u32, word } = reader(elf, little, is64);
  const phoff = word(is64 ? 0x20 : 0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const header: Header = {
    is64,
    little,
    readOnly: [],
    shoff: word(is64 ? 0x28 : 0x20),
    shentsize: u16(is64 ? 0x3a : 0x2e),
    shnum: u16(is64 ? 0x3c : 0x30),
    shstrndx: u16(is64 ? 0x3e : 0x32),
  };
  if (phentsize < (is64 ? 56 : 32)) return header;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > elf.length) break;
    const type = u32(ph);
    const offset = word(ph + (is64 ? 0x08 : 0x04));
    const filesz = word(ph + (is64 ? 0x20 : 0x10));
    const flags = u32(ph + (is64 ? 0x04 : 0x18));
    if (type === 1 && (flags & 2) === 0 && filesz > 0) header.readOnly.push([offset, offset + filesz]);
    if (type !== 4 || header.buildId) continue; // PT_NOTE
    let at = offset;
    const end = Math.min(offset + filesz, elf.length);
    while (at + 12 <= end) {
      const namesz = u32(at);
      const descsz = u32(at + 4);
      const noteType = u32(at + 8);
      const nameAt = at + 12;
      const descAt = nameAt + Math.ceil(namesz / 4) * 4;
      if (noteType === 3 && namesz === 4 && elf.toString('latin1', nameAt, nameAt + 3) === 'GNU' && descAt + descsz <= elf.length) {
        header.buildId = { offset: descAt, length: descsz };
        break;
      }
      at = descAt + Math.ceil(descsz / 4) * 4;
    }
  }
  header.readOnly.sort((x, y) => x[0] - y[0]);
  return header;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isPrintable = (c: number): boolean => c >= 0x20 && c <= 0x7e;

/** Receives an ELF file's bytes in order; `finish` returns what the comparison needs. */
export class ElfProbe {
  private head: Buffer[] | undefined = [];
  private headLength = 0;
  private header: Header | undefined;
  private offset = 0;
  private readonly blockSize: number;
  private block: Hash | undefined;
  private blockFill = 0;
  private readonly blockDigests: Buffer[] = [];
  private window: Buffer | undefined;
  private windowStart = 0;
  private carry: Buffer | undefined;
  private carryStart = 0;
  private readonly times = new Map<number, string>();
  private buildIdHex: string | undefined;

  constructor(private readonly size: number) {
    let block = MIN_BLOCK;
    while (block * MAX_BLOCKS < size) block *= 2;
    this.blockSize = block;
  }

  data(chunk: Buffer): void {
    if (this.head) {
      this.head.push(Buffer.from(chunk));
      this.headLength += chunk.length;
      if (this.headLength < Math.min(ELF_HEAD, this.size)) return;
      this.startBody();
      return;
    }
    this.body(chunk);
  }

  private startBody(): void {
    const head = Buffer.concat(this.head!);
    this.head = undefined;
    this.header = parseHeader(head);
    const h = this.header;
    if (h?.buildId) this.buildIdHex = head.subarray(h.buildId.offset, h.buildId.offset + h.buildId.length).toString('hex');
    if (h && h.shnum > 0 && h.shentsize > 0 && h.shnum * h.shentsize <= MAX_SECTION_TABLE && h.shoff + h.shnum * h.shentsize <= this.size) {
      this.windowStart = Math.max(0, h.shoff - SHSTRTAB_WINDOW);
      this.window = Buffer.alloc(h.shoff + h.shnum * h.shentsize - this.windowStart);
    }
    this.body(head);
  }

  private body(chunk: Buffer): void {
    const start = this.offset;
    this.offset += chunk.length;
    const h = this.header;
    if (this.window) {
      const from = Math.max(start, this.windowStart);
      const to = Math.min(this.offset, this.windowStart + this.window.length);
      if (from < to) chunk.copy(this.window, from - this.windowStart, from - start, to - start);
    }
    if (h) for (const [s, e] of h.readOnly) this.scan(chunk, start, s, e);
    let bytes = chunk;
    const id = h?.buildId;
    if (id && id.offset < this.offset && id.offset + id.length > start) {
      bytes = Buffer.from(chunk);
      bytes.fill(0, Math.max(0, id.offset - start), Math.min(chunk.length, id.offset + id.length - start));
    }
    this.hashBlocks(bytes);
  }

  private hashBlocks(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      this.block ??= createHash('sha256');
      const n = Math.min(bytes.length - at, this.blockSize - this.blockFill);
      this.block.update(bytes.subarray(at, at + n));
      this.blockFill += n;
      at += n;
      if (this.blockFill === this.blockSize) this.closeBlock();
    }
  }

  private closeBlock(): void {
    if (!this.block) return;
    this.blockDigests.push(this.block.digest().subarray(0, 8));
    this.block = undefined;
    this.blockFill = 0;
  }

  /** Looks for date/time C strings in the part of `chunk` (at file offset `start`) inside [s, e). */
  private scan(chunk: Buffer, start: number, s: number, e: number): void {
    const from = Math.max(start, s);
    const to = Math.min(start + chunk.length, e);
    if (from >= to || this.times.size >= MAX_TIMES) return;
    let buf = chunk.subarray(from - start, to - start);
    let base = from;
    if (this.carry && this.carryStart + this.carry.length === from) {
      buf = Buffer.concat([this.carry, buf]);
      base = this.carryStart;
    }
    // A segment's first byte may start a string (.rodata often opens a page-aligned segment).
    const opensAtStart = base === s;
    const found = (at: number): void => {
      const string = cString(buf, at, opensAtStart);
      if (string && !this.times.has(base + string.start) && this.times.size < MAX_TIMES) this.times.set(base + string.start, string.text);
    };
    for (let i = buf.indexOf(0x3a, 2); i !== -1 && i + 6 <= buf.length; i = buf.indexOf(0x3a, i + 1)) {
      if (isDigit(buf[i - 2]) && isDigit(buf[i - 1]) && isDigit(buf[i + 1]) && isDigit(buf[i + 2]) && buf[i + 3] === 0x3a && isDigit(buf[i + 4]) && isDigit(buf[i + 5])) found(i - 2);
    }
    for (const month of MONTHS) {
      for (let i = buf.indexOf(month); i !== -1 && i + 11 <= buf.length; i = buf.indexOf(month, i + 1)) {
        const day = buf[i + 4]!;
        if ((day === 0x20 || isDigit(day)) && isDigit(buf[i + 5]) && buf[i + 6] === 0x20 && isDigit(buf[i + 7]) && isDigit(buf[i + 8]) && isDigit(buf[i + 9]) && isDigit(buf[i + 10])) found(i);
      }
    }
    // Strings cut at the chunk's end are found again with the next chunk.
    const keep = Math.min(CARRY, buf.length);
    this.carry = Buffer.from(buf.subarray(buf.length - keep));
    this.carryStart = base + buf.length - keep;
  }

  finish(): ElfSummary | undefined {
    if (this.head) this.startBody();
    this.closeBlock();
    const h = this.header;
    if (!h) return undefined;
    const digests = Buffer.concat(this.blockDigests);
    const summary: ElfSummary = {
      buildId: '',
      maskedSha256: createHash('sha256').update(digests).digest('hex'),
      blockSize: this.blockSize,
      blocks: digests.toString('hex'),
    };
    if (this.buildIdHex) summary.buildId = this.buildIdHex;
    const sections = this.sections(h);
    if (sections) summary.sections = sections;
    if (this.times.size > 0) {
      const inData = (offset: number): boolean => !sections || sections.some(([name, o, n]) => name.startsWith('.rodata') && offset >= o && offset < o + n);
      const times = [...this.times.entries()].filter(([offset]) => inData(offset)).sort((x, y) => x[0] - y[0]);
      if (times.length > 0) summary.times = times;
    }
    return summary;
  }

  private sections(h: Header): Array<[string, number, number]> | undefined {
    const w = this.window;
    if (!w || this.offset < this.windowStart + w.length) return undefined;
    const table = h.shoff - this.windowStart;
    const { u32, word } = reader(w, h.little, h.is64);
    if (h.shentsize < (h.is64 ? 64 : 40)) return undefined;
    const entry = (i: number): { name: number; type: number; offset: number; size: number } => {
      const at = table + i * h.shentsize;
      return { name: u32(at), type: u32(at + 4), offset: word(at + (h.is64 ? 0x18 : 0x10)), size: word(at + (h.is64 ? 0x20 : 0x14)) };
    };
    let names: Buffer | undefined;
    if (h.shstrndx < h.shnum) {
      const s = entry(h.shstrndx);
      if (s.offset >= this.windowStart && s.offset + s.size <= h.shoff) names = w.subarray(s.offset - this.windowStart, s.offset - this.windowStart + s.size);
    }
    const out: Array<[string, number, number]> = [];
    for (let i = 1; i < h.shnum; i++) {
      const s = entry(i);
      if (s.type === 0 || s.type === 8 || s.size === 0) continue; // SHT_NULL, SHT_NOBITS
      let name = `[${i}]`;
      if (names && s.name < names.length) {
        const end = names.indexOf(0, s.name);
        name = names.toString('latin1', s.name, end === -1 ? names.length : end) || name;
      }
      out.push([name, s.offset, s.size]);
    }
    return out;
  }
}

/** The printable C string (NUL on both sides, or the buffer's start when `open`) around `at`. */
function cString(buf: Buffer, at: number, open: boolean): { start: number; text: string } | undefined {
  let start = at;
  while (start > 0 && at - start < STRING_REACH && buf[start - 1] !== 0) {
    if (!isPrintable(buf[start - 1]!)) return undefined;
    start--;
  }
  if (start > 0 ? buf[start - 1] !== 0 : !open) return undefined;
  let end = at;
  while (end < buf.length && end - at < STRING_REACH + 11 && buf[end] !== 0) {
    if (!isPrintable(buf[end]!)) return undefined;
    end++;
  }
  if (end >= buf.length || buf[end] !== 0) return undefined;
  return { start, text: buf.toString('latin1', start, end) };
}

const short = (id: string): string => (id ? (id.length > 16 ? `${id.slice(0, 16)}…` : id) : '(none)');

/** What differs between two ELF files whose bytes differ: build time, build ID, or sections. */
export function compareElf(a: ElfSummary, b: ElfSummary): FileDifference {
  const parts: string[] = [];
  const idDiffers = a.buildId !== b.buildId;
  if (idDiffers) parts.push(`build ID ${short(a.buildId)} → ${short(b.buildId)} (.note.gnu.build-id)`);
  const timesA = new Map(a.times ?? []);
  const timesB = new Map(b.times ?? []);
  const changedTimes: Array<[string, string]> = [];
  for (const offset of new Set([...timesA.keys(), ...timesB.keys()])) {
    const x = timesA.get(offset);
    const y = timesB.get(offset);
    if (x !== y) changedTimes.push([x ?? '', y ?? '']);
  }
  changedTimes.sort();
  if (changedTimes.length > 0) {
    const shown = changedTimes.slice(0, 3).map(([x, y]) => `"${x}" → "${y}"`).join(', ');
    parts.push(`__DATE__/__TIME__ strings in .rodata: ${shown}${changedTimes.length > 3 ? ` and ${changedTimes.length - 3} more` : ''}`);
  }
  const sections = differingSections(a, b);
  if (sections.length > 0) parts.push(`sections that differ (to ${a.blockSize ?? MIN_BLOCK}-byte blocks): ${sections.slice(0, 8).join(', ')}${sections.length > 8 ? ` and ${sections.length - 8} more` : ''}`);
  const detail = parts.join('; ');
  if (changedTimes.length > 0) {
    return { kind: 'elf-build-time', field: 'content (ELF: build time in .rodata)', a: changedTimes[0]![0], b: changedTimes[0]![1], detail };
  }
  if (idDiffers && a.maskedSha256 === b.maskedSha256) return { kind: 'elf-build-id', field: 'content (ELF build ID)', a: a.buildId, b: b.buildId, detail };
  return { kind: 'elf-sections', field: 'content (ELF sections)', a: a.buildId || null, b: b.buildId || null, detail: detail || 'the bytes differ outside named sections (headers or padding)' };
}

/** Sections added, removed, resized or overlapping a block whose digest differs (build ID masked). */
function differingSections(a: ElfSummary, b: ElfSummary): string[] {
  if (!a.sections || !b.sections) return [];
  const sameBlocks = a.blockSize === b.blockSize && a.blocks !== undefined && b.blocks !== undefined;
  const blockDiffers = (offset: number, size: number): boolean => {
    if (!sameBlocks) return true;
    const bs = a.blockSize!;
    for (let i = Math.floor(offset / bs); i * bs < offset + size; i++) {
      const x = a.blocks!.slice(i * 16, i * 16 + 16);
      const y = b.blocks!.slice(i * 16, i * 16 + 16);
      if (x !== y) return true;
    }
    return false;
  };
  const inB = new Map(b.sections.map((s) => [s[0], s]));
  const out: string[] = [];
  for (const [name, offset, size] of a.sections) {
    const other = inB.get(name);
    inB.delete(name);
    if (!other) out.push(`${name} (only in A)`);
    else if (other[2] !== size) out.push(`${name} (${size} → ${other[2]} bytes)`);
    else if (other[1] !== offset) out.push(`${name} (moved)`);
    else if (blockDiffers(offset, size)) out.push(name);
  }
  for (const name of inB.keys()) out.push(`${name} (only in B)`);
  return out;
}
