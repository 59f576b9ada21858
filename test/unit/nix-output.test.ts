// The nix CLI parsers, on output captured from Debian 12's Nix 2.8 and trixie's Nix 2.26.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeNixBase32, toSri } from '../../src/nix/hash.js';
import { parseBuildJson, parseDryRun, parsePathInfoJson } from '../../src/nix/output.js';
import { nixFeatures, parseNixVersion } from '../../src/nix/version.js';
import { fixture } from '../support/fixtures.js';

const read = (version: string, name: string): string => readFileSync(fixture('nix', version, name), 'utf8');
const OUT = '/nix/store/avgr3x8szndzxjipmphg64kksmnqlbbg-vllm-container-oci.tar';
const PAYLOAD = '/nix/store/3s099mnsa6v43hai03vmrkzwvmvib1k2-vllm-payload';

for (const version of ['2.8', '2.26']) {
  test(`Nix ${version}: version and features`, () => {
    const v = parseNixVersion(read(version, 'version.txt'))!;
    assert.equal(`${v.major}.${v.minor}`, version);
    assert.equal(nixFeatures(v).pathInfoJsonIsMap, version === '2.26');
  });

  test(`Nix ${version}: build --json (extra fields ignored)`, () => {
    const [result] = parseBuildJson(read(version, 'build-json.json'));
    assert.equal(result!.outputs.out, OUT);
    assert.match(result!.drvPath, /-vllm-container-oci\.tar\.drv$/);
  });

  test(`Nix ${version}: path-info --json, list or map, same result`, () => {
    const infos = parsePathInfoJson(read(version, 'path-info-json.json'));
    const byPath = new Map(infos.map((i) => [i.path, i]));
    assert.deepEqual([...byPath.keys()].sort(), [PAYLOAD, OUT].sort());
    assert.equal(byPath.get(PAYLOAD)!.narHash, 'sha256-pdK8S3ZF0/EAHIC9RH9wtVKT7TYRriSwNZ7oFvBTHZk=');
    assert.deepEqual(byPath.get(OUT)!.references, [PAYLOAD]);
  });

  test(`Nix ${version}: path-info --json of a missing path describes nothing`, () => {
    assert.deepEqual(parsePathInfoJson(read(version, 'path-info-json-missing.json')), []);
  });

  test(`Nix ${version}: dry-run lists what will be built and fetched`, () => {
    assert.deepEqual(parseDryRun(read(version, 'build-dry-run.txt')).toBuild.length, 2);
    assert.deepEqual(parseDryRun(read(version, 'build-dry-run.txt')).toFetch, []);
    assert.deepEqual(parseDryRun(read(version, 'build-dry-run-partial.txt')), { toBuild: [], toFetch: [OUT] });
    assert.deepEqual(parseDryRun(read(version, 'build-dry-run-substitutable.txt')).toFetch.sort(), [PAYLOAD, OUT].sort());
  });
}

test('Nix base32 and hex hashes become SRI', () => {
  // The empty string's sha256, in each of Nix's spellings.
  const sri = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
  assert.equal(toSri('sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73'), sri);
  assert.equal(toSri('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), sri);
  assert.equal(toSri(sri), sri);
  assert.equal(decodeNixBase32('0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73').length, 32);
  assert.throws(() => toSri('md5:abc'));
});
