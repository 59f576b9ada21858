// One digest of a directory tree of plain files: names, kinds, modes and contents, in a fixed order.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path));
      hash.update(`${JSON.stringify(path)} ${st.isDirectory() ? 'd' : st.isFile() ? 'f' : 'o'} ${(st.mode & 0o7777).toString(8)} ${st.size}\n`);
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) for await (const chunk of createReadStream(join(root, path))) hash.update(chunk as Buffer);
    }
  };
  await walk('');
  return hash.digest('hex');
}
