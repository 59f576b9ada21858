// /dev/kfd and /dev/dri/renderD*: present, openable by this user, and the numeric group IDs that
// own them (passed to `docker run --group-add`: names differ between host and image, numbers do not).
import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface DeviceNode {
  /** Path as the host names it (/dev/kfd), independent of the fixture root. */
  path: string;
  exists: boolean;
  gid?: number;
  groupName?: string;
  mode?: number;
  canOpen: boolean;
}

/** Who asks. Undefined: this process, answered by the kernel (access(2), ACLs included). */
export interface Identity {
  uid: number;
  gids: number[];
}

export async function readDevices(root = '/', identity?: Identity): Promise<{ kfd: DeviceNode; render: DeviceNode[] }> {
  const groups = await readGroups(root);
  const kfd = await device(root, '/dev/kfd', groups, identity);
  const dri = await readdir(join(root, 'dev/dri')).catch(() => [] as string[]);
  const render: DeviceNode[] = [];
  for (const name of dri.filter((n) => /^renderD\d+$/.test(n)).sort()) {
    render.push(await device(root, `/dev/dri/${name}`, groups, identity));
  }
  return { kfd, render };
}

async function device(root: string, path: string, groups: Map<number, string>, identity?: Identity): Promise<DeviceNode> {
  const full = join(root, path);
  const info = await stat(full).catch(() => undefined);
  if (!info) return { path, exists: false, canOpen: false };
  const canOpen = identity ? permits(info.mode, info.uid, info.gid, identity) : await access(full, constants.R_OK | constants.W_OK).then(() => true, () => false);
  return { path, exists: true, gid: info.gid, groupName: groups.get(info.gid), mode: info.mode & 0o7777, canOpen };
}

/** Read+write permission by mode bits, as the kernel decides without ACLs. */
export function permits(mode: number, ownerUid: number, ownerGid: number, who: Identity): boolean {
  if (who.uid === 0) return true;
  const bits = who.uid === ownerUid ? (mode >> 6) & 7 : who.gids.includes(ownerGid) ? (mode >> 3) & 7 : mode & 7;
  return (bits & 6) === 6;
}

async function readGroups(root: string): Promise<Map<number, string>> {
  const text = await readFile(join(root, 'etc/group'), 'utf8').catch(() => '');
  const groups = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid && /^\d+$/.test(gid)) groups.set(Number(gid), name);
  }
  return groups;
}

/** The distinct numeric GIDs owning the devices, for --group-add. */
export function deviceGroupIds(devices: DeviceNode[]): number[] {
  return [...new Set(devices.filter((d) => d.exists && d.gid !== undefined && d.gid !== 0).map((d) => d.gid!))].sort((a, b) => a - b);
}
