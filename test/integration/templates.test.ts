// templates/vllm-rocm, checked by the tools that consume it, as far as a machine with no GPU and no
// network allows (its README lists what is and is not checked). nixpkgs and the ROCm base image are
// never fetched. Each check also runs on a broken copy of the template, where it must fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { newRunnerJob, REPO_ROOT, runStep } from '../support/action-runner.js';
import { docker28Env, requireDocker28 } from '../support/docker28.js';
import { requireTools, sh } from '../support/tools.js';

const TEMPLATE = join(REPO_ROOT, 'templates', 'vllm-rocm');
const root = mkdtempSync(join(tmpdir(), 'vllm-rocm-template-'));
let copies = 0;

/** A copy of the template, optionally broken by replacing `from` with `to` in one file. */
function templateCopy(edit?: { file: string; from: string | RegExp; to: string }): string {
  const dir = join(root, `copy-${++copies}`);
  cpSync(TEMPLATE, dir, { recursive: true });
  if (edit) {
    const path = join(dir, edit.file);
    const text = readFileSync(path, 'utf8');
    const broken = text.replace(edit.from, edit.to);
    assert.notEqual(broken, text, `the mutation of ${edit.file} changed nothing`);
    writeFileSync(path, broken);
  }
  return dir;
}

/** Runs a command: did it exit 0, and its stdout then stderr. */
function attempt(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; output: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

before(() => requireTools('nix', 'nix-instantiate', 'docker', 'docker-compose', 'shellcheck', 'bash'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('the flake', () => {
  // The flake's outputs called with a nixpkgs that throws when touched: output names are read from
  // the file's attribute sets; were one computed from nixpkgs, this would fail, not fetch.
  const outputsExpr = `{ dir }: let
      flake = import (dir + "/flake.nix");
      outputs = flake.outputs { self = outputs; nixpkgs = throw "nixpkgs must not be evaluated by this check"; };
    in {
      inputs = builtins.attrNames flake.inputs;
      packages = builtins.attrNames outputs.packages.x86_64-linux;
      devShells = builtins.attrNames outputs.devShells.x86_64-linux;
      nixosModules = builtins.attrNames outputs.nixosModules;
      moduleArgs = builtins.attrNames (builtins.functionArgs outputs.nixosModules.vllm);
      settings = import (dir + "/nix/settings.nix");
    }`;
  const readOutputs = (dir: string) => JSON.parse(sh('nix-instantiate', ['--eval', '--strict', '--json', '--argstr', 'dir', dir, '-E', outputsExpr]));

  test('every .nix file parses', () => {
    const files = readdirSync(TEMPLATE, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.nix'));
    assert.deepEqual(files.sort(), ['flake.nix', 'nix/module.nix', 'nix/settings.nix', 'nix/vllm.nix']);
    for (const file of files) sh('nix-instantiate', ['--parse', join(TEMPLATE, file)]);

    const broken = templateCopy({ file: 'nix/vllm.nix', from: /\n}\n$/, to: '\n' });
    const parsed = attempt('nix-instantiate', ['--parse', join(broken, 'nix/vllm.nix')]);
    assert.equal(parsed.ok, false, 'a file missing its closing brace must not parse');
    assert.match(parsed.output, /syntax error/);
  });

  test('has the documented outputs and settings, read without evaluating nixpkgs', () => {
    const outputs = readOutputs(TEMPLATE);
    assert.deepEqual(outputs.inputs, ['nixpkgs']);
    assert.deepEqual(outputs.packages, ['default', 'vllm-container', 'vllm-server']);
    assert.deepEqual(outputs.devShells, ['default', 'vllm']);
    assert.deepEqual(outputs.nixosModules, ['default', 'vllm']);
    assert.deepEqual(outputs.moduleArgs, ['config', 'lib'], 'nixosModules.vllm is a NixOS module function');
    assert.deepEqual(outputs.settings.gpuTargets, ['gfx1151', 'gfx1100', 'gfx942']);
    assert.equal(outputs.settings.source, 'nixpkgs');

    // The README documents exactly these names and targets.
    const readme = readFileSync(join(TEMPLATE, 'README.md'), 'utf8');
    for (const name of ['nix develop .#vllm', 'nix build .#vllm-container', 'nixosModules.vllm', 'systemctl start vllm', 'packages.x86_64-linux.{vllm-server']) {
      assert.ok(readme.includes(name), `README mentions ${name}`);
    }
    for (const target of outputs.settings.gpuTargets) assert.match(readme, new RegExp(`^\\| \`${target}\` \\|`, 'm'));

    // A renamed output is seen, and so is an output whose name would need nixpkgs.
    assert.deepEqual(readOutputs(templateCopy({ file: 'flake.nix', from: 'vllm-container = vllm.vllm-container;', to: 'vllm-image = vllm.vllm-container;' })).packages, ['default', 'vllm-image', 'vllm-server']);
    const computed = templateCopy({ file: 'flake.nix', from: 'packages.${system} = {', to: 'packages.${nixpkgs.lib.head [ system ]} = {' });
    const evaluated = attempt('nix-instantiate', ['--eval', '--strict', '--json', '--argstr', 'dir', computed, '-E', outputsExpr]);
    assert.equal(evaluated.ok, false);
    assert.match(evaluated.output, /nixpkgs must not be evaluated by this check/);
  });

  test('flake.lock pins nixpkgs at a full revision that Nix accepts for the inputs without fetching', () => {
    const lock = JSON.parse(readFileSync(join(TEMPLATE, 'flake.lock'), 'utf8'));
    const nixpkgs = lock.nodes.nixpkgs;
    assert.deepEqual(nixpkgs.original, { owner: 'NixOS', ref: 'nixos-unstable', repo: 'nixpkgs', type: 'github' });
    assert.match(nixpkgs.locked.rev, /^[0-9a-f]{40}$/);
    assert.match(nixpkgs.locked.narHash, /^sha256-[A-Za-z0-9+/]{43}=$/);
    assert.equal(typeof nixpkgs.locked.lastModified, 'number');
    const readme = readFileSync(join(TEMPLATE, 'README.md'), 'utf8');
    assert.ok(readme.includes(nixpkgs.locked.rev), 'the README names the locked revision');

    const meta = JSON.parse(sh('nix', ['flake', 'metadata', '--json', '--no-update-lock-file', templateCopy()]));
    assert.equal(meta.locks.nodes.nixpkgs.locked.rev, nixpkgs.locked.rev);
  });
});

// nix/vllm.nix's own wiring, evaluated with stand-ins for the nixpkgs functions it calls: each
// stand-in returns the arguments it was given, so what the template passes to nixpkgs (the GPU
// targets to torch, vllm and the wrapper, the image's created time, the wheels' fetches) can be
// read back. This checks the template's logic, not nixpkgs' (see the README).
const stubbedVllmExpr = `{ dir, settingsJson, pyNames ? "[]", commitJson ? "{}" }:
  let
    lib = {
      subtractLists = a: builtins.filter (x: !(builtins.elem x a));
      concatStringsSep = builtins.concatStringsSep;
      makeLibraryPath = ps: builtins.concatStringsSep ":" (map (p: "\${p}/lib") ps);
      last = l: builtins.elemAt l (builtins.length l - 1);
      intersectLists = a: builtins.filter (x: builtins.elem x a);
      elem = builtins.elem;
      splitString = sep: s: builtins.filter builtins.isString (builtins.split sep s);
      replaceStrings = builtins.replaceStrings;
      listToAttrs = builtins.listToAttrs;
      nameValuePair = name: value: { inherit name value; };
      optionalString = cond: s: if cond then s else "";
    };
    recorded = name: { outPath = "/stub/\${name}"; override = args: { overriddenWith = args; }; };
    python = version: {
      override = { self, packageOverrides }:
        let
          prev = { torch = recorded "torch"; vllm = recorded "vllm"; triton = recorded "triton"; amdsmi = recorded "amdsmi"; python.sitePackages = "lib/python\${version}/site-packages"; buildPythonPackage = args: args; };
          # nixpkgs' Python packages vllm.nix names, as plain stand-ins.
          pyPackages = builtins.listToAttrs (map (n: { name = n; value = { outPath = "/stub/py/\${n}"; optional-dependencies.standard = [ ]; }; }) (builtins.fromJSON pyNames));
          final = pyPackages // prev // packageOverrides final prev;
        in { withPackages = f: { outPath = "/stub/python\${version}-env"; packages = f final; set = final; }; };
    };
    pkgs = {
      inherit lib;
      rocmPackages = builtins.listToAttrs (map (n: { name = n; value = "/stub/rocm/\${n}"; }) [ "rocm-runtime" "rocm-comgr" "rocblas" "hipblaslt" "miopen" "rccl" "rocminfo" "rocm-smi" ]) // {
        clr = { outPath = "/stub/rocm/clr"; version = "7.0.2"; gpuTargets = [ "gfx900" "gfx906" "gfx908" "gfx90a" "gfx942" "gfx1010" "gfx1030" "gfx1100" "gfx1101" "gfx1102" "gfx1151" "gfx1200" "gfx1201" ]; };
      };
      python3 = python "3.13";
      python311 = python "3.11";
      python312 = python "3.12";
      writeShellApplication = args: args // { outPath = "/stub/vllm-server"; };
      dockerTools = { buildLayeredImage = args: args; fakeNss = "/stub/fakeNss"; };
      mkShell = args: args;
      fetchurl = args: args;
      stdenv.cc.cc.lib = "/stub/libstdc++";
    } // builtins.listToAttrs (map (n: { name = n; value = "/stub/\${n}"; }) [ "coreutils" "bashInteractive" "cacert" "autoPatchelfHook" "numactl" "zlib" "libdrm" "elfutils" ]);
    settings = import (dir + "/nix/settings.nix") // builtins.fromJSON settingsJson;
    vllm = import (dir + "/nix/vllm.nix") { inherit pkgs settings; commit = builtins.fromJSON commitJson; };
    server = vllm.vllm-server;
    set = server.passthru.pythonEnv.set;
  in {
    targets = settings.gpuTargets;
    env = server.runtimeEnv;
    scriptIsBinVllmServer = server.text == builtins.readFile (dir + "/bin/vllm-server");
    torchTargets = set.torch.overriddenWith.gpuTargets or null;
    vllmTargets = set.vllm.overriddenWith.gpuTargets or null;
    wheel = if settings.source == "wheels" then {
      inherit (set.vllm) format; src = set.vllm.src.name; patched = builtins.elem "/stub/autoPatchelfHook" set.vllm.nativeBuildInputs;
      # The vLLM wheel's own triton/amdsmi wheels, by their names.
      wheelDependencies = map (d: d.pname) (builtins.filter (d: d ? pname && d.pname != "torch") set.vllm.dependencies);
      sources = map (w: (builtins.getAttr w.pname set).src.name) settings.wheels.packages;
    } else null;
    image = { inherit (vllm.vllm-container) created; entrypoint = vllm.vllm-container.config.Entrypoint; passwd = builtins.elem "/stub/fakeNss" vllm.vllm-container.contents; labels = vllm.vllm-container.config.Labels; };
  }`;

describe('nix/vllm.nix, with stand-ins for nixpkgs', () => {
  // The nixpkgs Python package names vllm.nix lists for the wheels' vLLM (its `with ps; [ ... ]`).
  const pyNames = /vllmDependencies =\s*ps: with ps; \[([^\]]*)\]/.exec(readFileSync(join(TEMPLATE, 'nix', 'vllm.nix'), 'utf8'))![1]!.split(/\s+/).filter(Boolean);
  const evaluate = (settings: object = {}, commit: object = {}) => attempt('nix-instantiate', ['--eval', '--strict', '--json', '--argstr', 'dir', TEMPLATE, '--argstr', 'settingsJson', JSON.stringify(settings), '--argstr', 'pyNames', JSON.stringify(pyNames), '--argstr', 'commitJson', JSON.stringify(commit), '-E', stubbedVllmExpr]);

  test('one list of GPU targets reaches torch, vllm and the wrapper; the image has a fixed creation time', () => {
    const result = evaluate();
    assert.equal(result.ok, true, result.output);
    const wiring = JSON.parse(result.output);
    assert.deepEqual(wiring.targets, ['gfx1151', 'gfx1100', 'gfx942']);
    assert.deepEqual(wiring.torchTargets, wiring.targets);
    assert.deepEqual(wiring.vllmTargets, wiring.targets);
    assert.equal(wiring.env.VLLM_GPU_TARGETS, 'gfx1151 gfx1100 gfx942');
    assert.equal(wiring.env.PYTORCH_ROCM_ARCH, 'gfx1151;gfx1100;gfx942');
    assert.equal(wiring.env.ROCM_PATH, '/stub/rocm/clr');
    assert.equal(wiring.env.ROCM_HOME, '/stub/rocm/clr');
    assert.equal(wiring.env.VLLM_ROCM_VERSION, '7.0.2');
    assert.equal(wiring.env.VLLM_BIN, '/stub/python3.13-env/bin/vllm', 'nixpkgs\' wrapped bin/vllm, not python -m');
    assert.match(wiring.env.VLLM_ROCM_LIBRARY_PATH, /^\/stub\/rocm\/clr\/lib:\/stub\/rocm\/rocm-runtime\/lib:/);
    assert.equal(wiring.scriptIsBinVllmServer, true, 'the wrapper runs bin/vllm-server, the Docker image\'s entrypoint');
    assert.deepEqual(wiring.image, {
      created: '1970-01-01T00:00:01Z',
      entrypoint: ['/stub/vllm-server/bin/vllm-server'],
      passwd: true,
      labels: { 'org.opencontainers.image.title': 'vllm-rocm', 'org.opencontainers.image.description': 'vLLM OpenAI server for ROCm (gfx1151, gfx1100, gfx942), nixpkgs' },
    });
  });

  test("OCI labels from the flake's commit and settings.nix: revision, created (the commit's time), source, licenses", () => {
    const image = { name: 'vllm-rocm', tag: 'latest', source: 'https://github.com/acme/vllm-rocm', licenses: 'Apache-2.0' };
    const result = evaluate({ image }, { revision: '0123456789abcdef0123456789abcdef01234567', created: '2026-12-01T10:20:30Z' });
    assert.equal(result.ok, true, result.output);
    const { labels, created } = JSON.parse(result.output).image;
    assert.equal(created, '1970-01-01T00:00:01Z', "the image's own creation time stays fixed");
    assert.deepEqual(labels, {
      'org.opencontainers.image.title': 'vllm-rocm',
      'org.opencontainers.image.description': 'vLLM OpenAI server for ROCm (gfx1151, gfx1100, gfx942), nixpkgs',
      'org.opencontainers.image.source': 'https://github.com/acme/vllm-rocm',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
      'org.opencontainers.image.created': '2026-12-01T10:20:30Z',
    });
  });

  test("flake.nix turns the commit's lastModifiedDate into the created label, and a dirty tree gives none", () => {
    // flake.nix's `commit`, evaluated with a stand-in `self` (a clean tree, then a dirty one).
    const flake = readFileSync(join(TEMPLATE, 'flake.nix'), 'utf8');
    const binding = /(\n {6}commit =\n[\s\S]*?\n {10}\{ \};\n)/.exec(flake);
    assert.ok(binding, 'flake.nix binds commit');
    const expr = (self: string) => `let self = ${self}; ${binding[1]!.trim()} in commit`;
    const clean = attempt('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr('{ rev = "abc"; lastModifiedDate = "20261201102030"; }')]);
    assert.equal(clean.ok, true, clean.output);
    assert.deepEqual(JSON.parse(clean.output), { revision: 'abc', created: '2026-12-01T10:20:30Z' });
    const dirty = attempt('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr('{ dirtyRev = "abc-dirty"; lastModifiedDate = "20261201102030"; }')]);
    assert.deepEqual(JSON.parse(dirty.output), {});
  });

  test('the image has /etc/passwd (fakeNss), so import vllm can name its user; without it the check fails', () => {
    const broken = templateCopy({ file: 'nix/vllm.nix', from: '      pkgs.dockerTools.fakeNss\n', to: '' });
    const result = attempt('nix-instantiate', ['--eval', '--strict', '--json', '--argstr', 'dir', broken, '--argstr', 'settingsJson', '{}', '-E', stubbedVllmExpr]);
    assert.equal(result.ok, true, result.output);
    assert.equal(JSON.parse(result.output).image.passwd, false);
  });

  test('the example wheels are upstream\'s cp312 ROCm set: torch, triton, amdsmi and vllm for python312', () => {
    const settings = JSON.parse(sh('nix-instantiate', ['--eval', '--strict', '--json', join(TEMPLATE, 'nix', 'settings.nix')])).wheels;
    assert.equal(settings.python, 'python312');
    assert.deepEqual(settings.packages.map((w: { pname: string }) => w.pname), ['torch', 'triton', 'amdsmi', 'vllm']);
    for (const w of settings.packages) {
      assert.match(w.url, /^https:\/\/wheels\.vllm\.ai\/rocm\/0\.18\.0\/rocm700\/[a-z_]+-[^-]+-cp312-cp312-linux_x86_64\.whl$/, w.url);
      assert.ok(decodeURIComponent(w.url).includes(`-${w.version}-`), `${w.pname}'s URL names its version ${w.version}`);
    }
    const settingsText = readFileSync(join(TEMPLATE, 'nix', 'settings.nix'), 'utf8');
    assert.match(settingsText, /were NOT checked against the index/, 'the unverified URLs say so');
  });

  test('wheels are fetched by URL and sha256 and patched; a missing hash, an unknown target or source is refused', () => {
    const hash = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    // The template's own example list, hashed.
    const example = JSON.parse(sh('nix-instantiate', ['--eval', '--strict', '--json', join(TEMPLATE, 'nix', 'settings.nix')])).wheels;
    const wheels = { ...example, packages: example.packages.map((w: object) => ({ ...w, hash })) };
    const result = evaluate({ source: 'wheels', wheels });
    assert.equal(result.ok, true, result.output);
    const wiring = JSON.parse(result.output);
    assert.deepEqual(wiring.wheel, {
      format: 'wheel',
      src: 'vllm-0.18.0+rocm700-cp312-cp312-linux_x86_64.whl',
      patched: true,
      wheelDependencies: ['triton', 'amdsmi'],
      sources: ['torch-2.9.0a0+git1c57644-cp312-cp312-linux_x86_64.whl', 'triton-3.4.0-cp312-cp312-linux_x86_64.whl', 'amdsmi-26.1.0+5df6c765-cp312-cp312-linux_x86_64.whl', 'vllm-0.18.0+rocm700-cp312-cp312-linux_x86_64.whl'],
    });
    assert.equal(wiring.env.VLLM_BIN, '/stub/python3.12-env/bin/vllm');
    // Without the amdsmi wheel, vllm's dependencies lose it (and nothing is taken from nixpkgs instead).
    const noAmdsmi = evaluate({ source: 'wheels', wheels: { ...wheels, packages: wheels.packages.filter((w: { pname: string }) => w.pname !== 'amdsmi') } });
    assert.deepEqual(JSON.parse(noAmdsmi.output).wheel.wheelDependencies, ['triton']);

    const unhashed = evaluate({ source: 'wheels' });
    assert.equal(unhashed.ok, false);
    assert.match(unhashed.output, /wheel \w+ has no hash; run `nix store prefetch-file --hash-type sha256 'https:\/\/wheels\.vllm\.ai\/rocm\/0\.18\.0\/rocm700\//);
    const typo = evaluate({ gpuTargets: ['gfx1151', 'gfx1511'] });
    assert.equal(typo.ok, false);
    assert.match(typo.output, /gpuTargets gfx1511 are not ROCm 7\.0\.2 targets/);
    const source = evaluate({ source: 'wheel' });
    assert.equal(source.ok, false);
    assert.match(source.output, /source = "wheel"; allowed: "nixpkgs" or "wheels"/);
  });
});

// nix/module.nix evaluated with stand-ins for the nixpkgs lib functions it calls (the module
// system itself is nixpkgs'): each option takes its default unless the test sets it, and what the
// module asks of systemd and which assertions fail can be read back.
const moduleExpr = `{ dir, configJson }:
  let
    lib = {
      mkEnableOption = description: { default = false; inherit description; };
      mkOption = option: option;
      types = {
        package = "package"; str = "str"; port = "port"; bool = "bool";
        listOf = t: { listOf = t; }; attrsOf = t: { attrsOf = t; }; nullOr = t: { nullOr = t; }; strMatching = re: { strMatching = re; };
      };
      mkIf = cond: value: if cond then value else { };
      getExe' = pkg: name: "\${pkg}/bin/\${name}";
      escapeShellArgs = builtins.concatStringsSep " ";
      optional = cond: x: if cond then [ x ] else [ ];
      optionalAttrs = cond: attrs: if cond then attrs else { };
      optionalString = cond: s: if cond then s else "";
      hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
      any = builtins.any;
    };
    module = import (dir + "/nix/module.nix") { defaultPackage = "/stub/vllm-server"; };
    result = module { inherit lib; config.services.vllm = cfg; };
    options = result.options.services.vllm;
    cfg = builtins.mapAttrs (name: option: option.default or null) options // builtins.fromJSON configJson;
    service = result.config.systemd.services.vllm;
  in {
    failed = map (a: a.message) (builtins.filter (a: !a.assertion) result.config.assertions);
    inherit (service) environment;
    inherit (service.serviceConfig) LoadCredential EnvironmentFile ExecStart;
    secretTypes = { inherit (options.apiKeyFile) type; environmentFile = options.environmentFile.type; };
    # A file copied into the store leaves its store path in the string's context.
    storeContext = builtins.hasContext (builtins.toJSON service);
  }`;

describe('nix/module.nix, with stand-ins for nixpkgs lib', () => {
  const evalModule = (dir: string, config: Record<string, unknown>) =>
    JSON.parse(sh('nix-instantiate', ['--eval', '--strict', '--json', '--readonly-mode', '--argstr', 'dir', dir, '--argstr', 'configJson', JSON.stringify({ enable: true, model: 'm', ...config }), '-E', moduleExpr]));
  const keyDir = mkdtempSync(join(root, 'keys-'));
  const keyFile = join(keyDir, 'api-key');
  writeFileSync(keyFile, 'sk-template-test-key\n');

  test('listens on loopback by default; any other address or an open firewall needs apiKeyFile', () => {
    const local = evalModule(TEMPLATE, {});
    assert.deepEqual(local.failed, []);
    assert.match(local.ExecStart, /--host 127\.0\.0\.1 --port 8000/);
    assert.deepEqual(local.LoadCredential, []);
    assert.equal(local.environment.VLLM_API_KEY_FILE, undefined);
    for (const config of [{ host: '0.0.0.0' }, { openFirewall: true }, { host: '192.168.1.20' }]) {
      assert.match(evalModule(TEMPLATE, config).failed.join('\n'), /needs apiKeyFile: anyone who reaches the port would use the GPU/, JSON.stringify(config));
    }
  });

  test('the API key goes to systemd as a credential by its file name: the key never reaches the store', () => {
    const lan = evalModule(TEMPLATE, { host: '0.0.0.0', openFirewall: true, apiKeyFile: keyFile, environmentFile: ['/run/secrets/vllm.env'] });
    assert.deepEqual(lan.failed, []);
    assert.deepEqual(lan.LoadCredential, [`api-key:${keyFile}`]);
    assert.equal(lan.environment.VLLM_API_KEY_FILE, '%d/api-key');
    assert.deepEqual(lan.EnvironmentFile, ['/run/secrets/vllm.env']);
    assert.equal(lan.storeContext, false);
    assert.doesNotMatch(JSON.stringify(lan), /sk-template-test-key/);
    assert.doesNotMatch(lan.ExecStart, /api-key/, 'never on the command line, which every user sees');
    // Strings, not Nix paths (a path would be copied into the store), and absolute.
    assert.deepEqual(lan.secretTypes, { type: { nullOr: { strMatching: '/.*' } }, environmentFile: { listOf: { strMatching: '/.*' } } });
  });

  test('a key file in the store, or a secret in environment, is refused', () => {
    assert.match(evalModule(TEMPLATE, { apiKeyFile: '/nix/store/0000-key' }).failed.join('\n'), /must be outside \/nix\/store/);
    assert.match(evalModule(TEMPLATE, { environmentFile: ['/nix/store/0000-env'] }).failed.join('\n'), /must be outside \/nix\/store/);
    for (const name of ['VLLM_API_KEY', 'HF_TOKEN']) {
      assert.match(evalModule(TEMPLATE, { environment: { [name]: 'x' } }).failed.join('\n'), /secrets in `environment` land in the world-readable Nix store/, name);
    }
  });

  test('a module that copies the key file into the store is caught', () => {
    const copied = templateCopy({ file: 'nix/module.nix', from: '"api-key:${cfg.apiKeyFile}"', to: '"api-key:${/. + cfg.apiKeyFile}"' });
    assert.equal(evalModule(copied, { apiKeyFile: keyFile }).storeContext, true);
    const open = templateCopy({ file: 'nix/module.nix', from: 'default = "127.0.0.1";', to: 'default = "0.0.0.0";' });
    assert.match(evalModule(open, {}).failed.join('\n'), /needs apiKeyFile/);
  });
});

describe('ops/Dockerfile.vllm', () => {
  test('pins its base image by digest and takes the GPU target and the wheel as build args', () => {
    const dockerfile = readFileSync(join(TEMPLATE, 'ops', 'Dockerfile.vllm'), 'utf8');
    assert.match(dockerfile, /^ARG BASE_IMAGE=rocm\/pytorch@sha256:[0-9a-f]{64}$/m);
    assert.match(dockerfile, /^# rocm\/pytorch:rocm7\.\d+\.\d+_ubuntu/m, 'the tag is in a comment');
    for (const arg of ['GFX_ARCH', 'PYTORCH_ROCM_ARCH', 'VLLM_WHEEL_URL', 'VLLM_WHEEL_SHA256']) assert.match(dockerfile, new RegExp(`^ARG ${arg}=`, 'm'));
    assert.match(dockerfile, /sha256sum -c/);
    assert.doesNotMatch(dockerfile, /HSA_OVERRIDE_GFX_VERSION|HIP_VISIBLE_DEVICES=/, 'no GPU overrides baked in');
    const installs = [...dockerfile.matchAll(/apt-get install -y --no-install-recommends ([^\\&\n]+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
    assert.ok(installs.length > 0);
    for (const pkg of installs) assert.match(pkg, /^[a-z0-9.+-]+=\S+$/, `apt package ${pkg} has a pinned version`);
  });

  // Upstream's recipe (vllm docker/Dockerfile.rocm stage final, docker/Dockerfile.rocm_base): what the
  // template must do, each a problem when missing.
  const recipeProblems = (dockerfile: string) => {
    const problems: string[] = [];
    if (!/pip install \/tmp\/wheels\/amd_smi/.test(dockerfile) || !/cp -r \/opt\/rocm\/share\/amd_smi /.test(dockerfile)) problems.push('amdsmi not installed from /opt/rocm/share/amd_smi');
    if (/--constraint|-c \/tmp\/wheels\/base-constraints/.test(dockerfile)) problems.push('the wheel is constrained to the base image\'s torch');
    for (const env of ['TOKENIZERS_PARALLELISM=false', 'SAFETENSORS_FAST_GPU=1', 'HIP_FORCE_DEV_KERNARG=1', 'HSA_NO_SCRATCH_RECLAIM=1', 'PYTORCH_NVML_BASED_CUDA_CHECK=1']) {
      if (!new RegExp(`^(ENV|    )\\s*${env}( \\\\)?$`, 'm').test(dockerfile)) problems.push(`upstream's ${env} not set`);
    }
    if (!/torch\._C\._cuda_getArchFlags\(\).*> \/opt\/vllm\/gpu-targets/.test(dockerfile) || !/\*" \$GFX_ARCH "\*\) ;;/.test(dockerfile)) problems.push('GFX_ARCH is not checked against the installed torch\'s targets');
    return problems;
  };

  test('follows upstream\'s recipe: amdsmi from ROCm, the wheel\'s own torch, upstream\'s runtime env, GFX_ARCH checked against torch', () => {
    const dockerfile = readFileSync(join(TEMPLATE, 'ops', 'Dockerfile.vllm'), 'utf8');
    assert.deepEqual(recipeProblems(dockerfile), []);
    assert.match(dockerfile, /^ARG VLLM_WHEEL_INDEX=/m);
    assert.match(dockerfile, /GFX_ARCH compiles nothing/);
    const broken = (file: string, from: string | RegExp, to: string) => recipeProblems(readFileSync(join(templateCopy({ file, from, to }), file), 'utf8'));
    assert.deepEqual(broken('ops/Dockerfile.vllm', '    "$PYTHON" -m pip install /tmp/wheels/amd_smi; \\\n', ''), ['amdsmi not installed from /opt/rocm/share/amd_smi']);
    assert.deepEqual(broken('ops/Dockerfile.vllm', 'pip install ${VLLM_WHEEL_INDEX', 'pip install --constraint /tmp/wheels/base-constraints.txt ${VLLM_WHEEL_INDEX'), ['the wheel is constrained to the base image\'s torch']);
    assert.deepEqual(broken('ops/Dockerfile.vllm', '    HIP_FORCE_DEV_KERNARG=1 \\\n', ''), ['upstream\'s HIP_FORCE_DEV_KERNARG=1 not set']);
    assert.deepEqual(broken('ops/Dockerfile.vllm', '      *" $GFX_ARCH "*) ;; \\\n', ''), ['GFX_ARCH is not checked against the installed torch\'s targets']);
  });

  test('BuildKit 0.29 parses and lints it without pulling the base image', () => {
    const env = docker28Env(join(root, 'docker28-home'));
    requireDocker28(env);
    // docker28Env puts the docker 28 CLI first on PATH, with buildx 0.29 as its plugin.
    const check = (dir: string) => attempt('docker', ['buildx', 'build', '--check', '--build-arg', 'BASE_IMAGE=scratch', '-f', 'ops/Dockerfile.vllm', '.'], { cwd: dir, env: { ...process.env, ...env } });
    const good = check(TEMPLATE);
    assert.equal(good.ok, true, good.output);
    assert.match(good.output, /Check complete, no warnings found/);

    const linted = check(templateCopy({ file: 'ops/Dockerfile.vllm', from: 'FROM scratch AS entrypoint', to: 'FROM scratch as entrypoint' }));
    assert.equal(linted.ok, false, 'a lint warning fails the check');
    assert.match(linted.output, /FromAsCasing/);
    const unparsable = check(templateCopy({ file: 'ops/Dockerfile.vllm', from: 'COPY --from=entrypoint / /', to: 'COPPY --from=entrypoint / /' }));
    assert.equal(unparsable.ok, false);
    assert.match(unparsable.output, /unknown instruction: COPPY/i);
  });

  test('dockerd 26 builds the entrypoint stage, which needs no base image', () => {
    const build = (dir: string, out: string) => attempt('docker', ['buildx', 'build', '--target', 'entrypoint', '--output', `type=local,dest=${out}`, '-f', 'ops/Dockerfile.vllm', '.'], { cwd: dir });
    const out = join(root, 'entrypoint-stage');
    const built = build(TEMPLATE, out);
    assert.equal(built.ok, true, built.output);
    const script = join(out, 'usr', 'local', 'bin', 'vllm-server');
    assert.equal(readFileSync(script, 'utf8'), readFileSync(join(TEMPLATE, 'bin', 'vllm-server'), 'utf8'));
    assert.ok(existsSync(join(out, 'opt', 'vllm', 'requirements.lock')));

    const missing = build(templateCopy({ file: 'ops/Dockerfile.vllm', from: 'COPY bin/vllm-server', to: 'COPY bin/vllm-serve' }), join(root, 'entrypoint-broken'));
    assert.equal(missing.ok, false);
    assert.match(missing.output, /bin\/vllm-serve.*not found/);
  });
  test('the pipeline, run as the runner runs it on a copy of the template, builds the entrypoint stage with the README\'s build args', async () => {
    const job = newRunnerJob(join(root, 'pipeline'));
    cpSync(TEMPLATE, job.workspace, { recursive: true });
    const readme = readFileSync(join(TEMPLATE, 'README.md'), 'utf8');
    const buildArgs = /build-args: \|\n((?: {12}\S.*\n)+)/.exec(readme)![1]!.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.deepEqual(buildArgs.map((a) => a.split('=')[0]), ['GFX_ARCH', 'VLLM_WHEEL_URL', 'VLLM_WHEEL_SHA256', 'VLLM_WHEEL_INDEX']);
    const result = await runStep('.', job, {
      inputs: { builder: 'docker', context: '.', file: 'ops/Dockerfile.vllm', target: 'entrypoint', cache: 'none', 'build-args': 'GFX_ARCH=gfx1100\nVLLM_WHEEL_URL=https://wheels.example/vllm.whl\nVLLM_WHEEL_SHA256=0000\nVLLM_WHEEL_INDEX=https://wheels.vllm.ai/rocm/0.18.0/rocm700' },
    });
    assert.equal(result.exitCode, 0, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-1000)}`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, [], 'every build arg the README passes is an ARG of the Dockerfile');
    assert.match(result.outputs.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  });
});

describe('ops/docker-compose.yml', () => {
  // As on a host where the shell sets neither: then neither reaches the container.
  const unset = ['HIP_VISIBLE_DEVICES', 'HF_TOKEN', 'HF_TOKEN_FILE', 'VIDEO_GID', 'RENDER_GID'];
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !unset.includes(name))), VIDEO_GID: '44', RENDER_GID: '992' };
  const config = (dir: string, extra: NodeJS.ProcessEnv = env) => attempt('docker-compose', ['-f', 'ops/docker-compose.yml', 'config', '--format', 'json'], { cwd: dir, env: extra });

  test('Compose validates it, with the GPU flags, the model volume and the health check', () => {
    sh('docker-compose', ['-f', 'ops/docker-compose.yml', 'config', '-q'], { cwd: TEMPLATE, env });
    const result = config(TEMPLATE);
    assert.equal(result.ok, true, result.output);
    const vllm = JSON.parse(result.output).services.vllm;
    assert.deepEqual(vllm.devices.map((d: { source: string }) => d.source), ['/dev/kfd', '/dev/dri']);
    assert.deepEqual(vllm.group_add, ['44', '992'], 'the host\'s GIDs, never names the image would resolve');
    assert.equal(vllm.ipc, 'host');
    assert.deepEqual(vllm.security_opt, ['seccomp=unconfined']);
    assert.deepEqual(vllm.volumes.map((v: { target: string }) => v.target), ['/models']);
    assert.match(vllm.healthcheck.test.join(' '), /http:\/\/127\.0\.0\.1:8000\/health/);
    assert.equal(vllm.build.dockerfile, 'ops/Dockerfile.vllm');
    // Unset in the shell: not passed at all (an empty HIP_VISIBLE_DEVICES hides every GPU).
    assert.equal(vllm.environment?.HIP_VISIBLE_DEVICES ?? null, null);
  });

  test('the GPU groups are the host\'s numeric GIDs: unset, Compose stops naming the variable and how to get it', () => {
    const withoutVideo = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'VIDEO_GID'));
    const missing = config(TEMPLATE, withoutVideo);
    assert.equal(missing.ok, false);
    assert.match(missing.output, /required variable VIDEO_GID is missing a value: set VIDEO_GID to the host's video GID: getent group video \| cut -d: -f3/);
    // A copy that adds the groups by name is seen.
    const named = JSON.parse(config(templateCopy({ file: 'ops/docker-compose.yml', from: '"${RENDER_GID:?set RENDER_GID to the host\'s render GID: getent group render | cut -d: -f3}"', to: 'render' })).output).services.vllm;
    assert.ok(named.group_add.some((g: string) => !/^\d+$/.test(g)), 'the mutated copy has a group name');
  });

  test('the API listens on 127.0.0.1 unless VLLM_BIND says otherwise, and its key comes from VLLM_API_KEY as a secret file', () => {
    const published = (dir: string, extra: Record<string, string> = {}) => {
      const r = attempt('docker-compose', ['-f', 'ops/docker-compose.yml', 'config', '--format', 'json'], { cwd: dir, env: { ...env, VLLM_API_KEY: 'sk-compose-test', ...extra } });
      assert.equal(r.ok, true, r.output);
      return { json: JSON.parse(r.output), text: r.output };
    };
    const { json, text } = published(TEMPLATE);
    const vllm = json.services.vllm;
    assert.deepEqual(vllm.ports.map((p: { host_ip?: string; published: string; target: number }) => [p.host_ip, p.published, p.target]), [['127.0.0.1', '8000', 8000]]);
    assert.equal(published(TEMPLATE, { VLLM_BIND: '0.0.0.0' }).json.services.vllm.ports[0].host_ip, '0.0.0.0');
    assert.deepEqual(json.secrets.vllm_api_key.environment, 'VLLM_API_KEY');
    assert.deepEqual(vllm.secrets, [{ source: 'vllm_api_key', target: '/run/secrets/vllm_api_key' }, { source: 'hf_token', target: '/run/secrets/hf_token' }]);
    assert.equal(vllm.environment.VLLM_API_KEY_FILE, '/run/secrets/vllm_api_key');
    assert.equal(vllm.environment.VLLM_API_KEY, undefined);
    assert.doesNotMatch(text, /sk-compose-test/, 'the key is not in the container config');
    // A copy that publishes on every interface is seen.
    const everywhere = published(templateCopy({ file: 'ops/docker-compose.yml', from: '"${VLLM_BIND:-127.0.0.1}:${VLLM_PORT:-8000}:8000"', to: '"${VLLM_PORT:-8000}:8000"' }));
    assert.notEqual(everywhere.json.services.vllm.ports[0].host_ip, '127.0.0.1');
  });

  test('the Hugging Face token is a secret file (HF_TOKEN_PATH), never an environment variable; optional: without HF_TOKEN_FILE it is /dev/null', () => {
    const token = 'hf_composeTestToken0123456789';
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'hf-token-')), 'token');
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const withToken = (extra: Record<string, string>) => {
      const r = config(TEMPLATE, { ...env, VLLM_API_KEY: 'sk-compose-test', HF_TOKEN: token, ...extra });
      assert.equal(r.ok, true, r.output);
      return { json: JSON.parse(r.output), text: r.output };
    };
    const { json, text } = withToken({ HF_TOKEN_FILE: tokenFile });
    const vllm = json.services.vllm;
    assert.equal(vllm.environment.HF_TOKEN_PATH, '/run/secrets/hf_token');
    assert.equal(vllm.environment.HF_TOKEN, undefined, 'a token in the shell is not passed on as a variable');
    assert.ok(vllm.secrets.some((s: { source: string; target: string }) => s.source === 'hf_token' && s.target === '/run/secrets/hf_token'));
    assert.equal(json.secrets.hf_token.file, tokenFile);
    assert.doesNotMatch(text, new RegExp(token), 'the token is not in the container config');
    // Unset: not required (an `environment:` secret would stop `up`), an empty file instead.
    const none = withToken({});
    assert.equal(none.json.secrets.hf_token.file, '/dev/null');
    assert.equal(none.json.secrets.hf_token.environment, undefined);
  });

  test('a broken compose file is refused by Compose', () => {
    const broken = config(templateCopy({ file: 'ops/docker-compose.yml', from: '    shm_size: 16g', to: '    shm_sizes: 16g' }));
    assert.equal(broken.ok, false);
    assert.match(broken.output, /shm_sizes/);
  });
});

describe('bin/vllm-server', () => {
  const wrapper = join(TEMPLATE, 'bin', 'vllm-server');

  test('passes bash -n and shellcheck; a shellcheck finding or a syntax error fails them', () => {
    sh('bash', ['-n', wrapper]);
    sh('shellcheck', [wrapper]);
    const unsafe = join(templateCopy({ file: 'bin/vllm-server', from: 'read -r rocm_version', to: 'read rocm_version' }), 'bin', 'vllm-server');
    sh('bash', ['-n', unsafe]);
    const linted = attempt('shellcheck', [unsafe]);
    assert.equal(linted.ok, false);
    assert.match(linted.output, /SC2162/);
    const unclosed = join(templateCopy({ file: 'bin/vllm-server', from: /\nfi\n/, to: '\n' }), 'bin', 'vllm-server');
    assert.equal(attempt('bash', ['-n', unclosed]).ok, false);
  });

  test('runs `vllm serve` with its arguments (a leading `vllm serve` dropped), passes GPU choice on, and drops HSA_OVERRIDE_GFX_VERSION only for a GPU the image has kernels for', () => {
    const dir = mkdtempSync(join(root, 'wrapper-'));
    const vllm = join(dir, 'vllm');
    // Stands in for nixpkgs' wrapped bin/vllm: prints what the server would have been started with.
    writeFileSync(vllm, '#!/bin/sh\necho "HSA=${HSA_OVERRIDE_GFX_VERSION-unset} HIP=${HIP_VISIBLE_DEVICES-unset} ROCM=$ROCM_PATH ARGS=$*"\n');
    chmodSync(vllm, 0o755);
    // A KFD topology as sysfs lays it out: node 0 the CPU (gfx_target_version 0), node 1 the GPU.
    const kfd = (gfxTargetVersion: number) => {
      const nodes = mkdtempSync(join(dir, 'kfd-'));
      for (const [node, version] of [[0, 0], [1, gfxTargetVersion]]) {
        mkdirSync(join(nodes, String(node)));
        writeFileSync(join(nodes, String(node), 'properties'), `cpu_cores_count ${node ? 0 : 16}\nsimd_count ${node ? 80 : 0}\ngfx_target_version ${version}\ndrm_render_minor ${node ? 128 : 0}\n`);
      }
      return nodes;
    };
    const run = (script: string, env: Record<string, string>, args: string[]) => attempt(script, args, { env: { PATH: process.env.PATH, VLLM_BIN: vllm, ROCM_PATH: '/opt/rocm', VLLM_GPU_TARGETS_FILE: join(dir, 'none'), ...env } }).output;
    const strixHalo = kfd(110501);

    const own = run(wrapper, { HSA_OVERRIDE_GFX_VERSION: '11.0.0', HIP_VISIBLE_DEVICES: '1', VLLM_GPU_TARGETS: 'gfx1151 gfx1100 gfx942', VLLM_KFD_NODES: strixHalo }, ['vllm', 'serve', 'Qwen/Qwen2.5-0.5B-Instruct', '--port', '8001']);
    assert.match(own, /the image has kernels for this GPU's native target \(gfx1151\); ignoring HSA_OVERRIDE_GFX_VERSION=11\.0\.0/);
    assert.ok(own.includes('HSA=unset HIP=1 ROCM=/opt/rocm ARGS=serve Qwen/Qwen2.5-0.5B-Instruct --port 8001'), own);

    // The image's targets lack the GPU's (gfx90a: 90010, hex stepping): the override is the user's workaround and stays.
    const foreign = run(wrapper, { HSA_OVERRIDE_GFX_VERSION: '9.4.2', VLLM_GPU_TARGETS: 'gfx1151;gfx942', VLLM_KFD_NODES: kfd(90010), VLLM_MODEL: 'm' }, []);
    assert.match(foreign, /keeping HSA_OVERRIDE_GFX_VERSION=9\.4\.2: the GPU's native target \(gfx90a\) is not among the image's \(gfx1151;gfx942\)/);
    assert.ok(foreign.includes('HSA=9.4.2 HIP=unset ROCM=/opt/rocm ARGS=serve --model m'), foreign);

    // Targets from the Docker image's file; no KFD (unknown GPU): kept.
    const targetsFile = join(dir, 'gpu-targets');
    writeFileSync(targetsFile, 'gfx1100 gfx1151 gfx942\n');
    assert.match(run(wrapper, { HSA_OVERRIDE_GFX_VERSION: '11.0.0', VLLM_GPU_TARGETS_FILE: targetsFile, VLLM_KFD_NODES: strixHalo }, ['--model', 'm']), /ignoring HSA_OVERRIDE_GFX_VERSION.*\n.*kernels built for: gfx1100 gfx1151 gfx942, GPUs: gfx1151/);
    assert.match(run(wrapper, { HSA_OVERRIDE_GFX_VERSION: '11.0.0', VLLM_GPU_TARGETS_FILE: targetsFile, VLLM_KFD_NODES: join(dir, 'no-kfd') }, ['--model', 'm']), /HSA=11\.0\.0/);
    assert.match(run(wrapper, { HSA_OVERRIDE_GFX_VERSION: '11.0.0', VLLM_KEEP_HSA_OVERRIDE: '1', VLLM_GPU_TARGETS: 'gfx1151', VLLM_KFD_NODES: strixHalo }, []), /HSA=11\.0\.0/);
    assert.match(run(wrapper, { HIP_VISIBLE_DEVICES: '' }, []), /HIP_VISIBLE_DEVICES is set but empty/);

    // Copies that break each property are seen: the deprecated entry point, `vllm serve` passed
    // twice, and the old rule (drop on any ROCm 7, whatever the GPU).
    const copyOf = (from: string | RegExp, to: string) => join(templateCopy({ file: 'bin/vllm-server', from, to }), 'bin', 'vllm-server');
    const deprecated = run(copyOf('exec "$vllm" serve "$@"', 'exec "$vllm" -m vllm.entrypoints.openai.api_server "$@"'), {}, ['--model', 'm']);
    assert.ok(!deprecated.includes('ARGS=serve --model m'), deprecated);
    const twice = run(copyOf('if [ "${1:-}" = vllm ] && [ "${2:-}" = serve ]; then', 'if false; then'), {}, ['vllm', 'serve', 'm']);
    assert.ok(!twice.includes('ARGS=serve m\n'), twice);
    assert.ok(twice.includes('ARGS=serve vllm serve m'));
    const always = run(copyOf('[ -n "$native" ] && [ -n "$targets" ] && [ -z "$missing" ]', 'true'), { HSA_OVERRIDE_GFX_VERSION: '9.4.2', VLLM_GPU_TARGETS: 'gfx1151', VLLM_KFD_NODES: kfd(90010) }, []);
    assert.match(always, /HSA=unset/, 'the broken copy drops an override the GPU needs');
  });

  test('takes the API key from VLLM_API_KEY_FILE; an empty, blank or missing file stops it before vLLM starts', () => {
    const dir = mkdtempSync(join(root, 'wrapper-key-'));
    const vllm = join(dir, 'vllm');
    writeFileSync(vllm, '#!/bin/sh\necho "KEY=${VLLM_API_KEY-unset} ARGS=$*"\n');
    chmodSync(vllm, 0o755);
    const run = (keyFile?: string) => {
      const r = spawnSync(wrapper, ['--model', 'm'], { encoding: 'utf8', env: { PATH: process.env.PATH, VLLM_BIN: vllm, ROCM_PATH: dir, VLLM_GPU_TARGETS_FILE: join(dir, 'none'), ...(keyFile ? { VLLM_API_KEY_FILE: keyFile } : {}) } });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    const key = join(dir, 'api-key');
    writeFileSync(key, 'sk-wrapper-test\n');
    const served = run(key);
    assert.equal(served.status, 0, served.output);
    assert.match(served.output, /^KEY=sk-wrapper-test ARGS=serve --model m$/m);
    assert.match(run().output, /^KEY=unset /, 'no file named: the environment as it is');
    for (const [name, body] of [['empty', ''], ['blank', ' \n\n']] as const) {
      writeFileSync(join(dir, name), body);
      const refused = run(join(dir, name));
      assert.equal(refused.status, 1, name);
      assert.match(refused.output, /refusing to serve without an API key/);
      assert.doesNotMatch(refused.output, /ARGS=/, 'vLLM did not start');
    }
    assert.equal(run(join(dir, 'missing')).status, 1);
  });
});

test('the template has no file the checks above do not cover', () => {
  const files = readdirSync(TEMPLATE, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(TEMPLATE, join(e.parentPath, e.name))).sort();
  assert.deepEqual(files, ['.dockerignore', 'README.md', 'bin/vllm-server', 'flake.lock', 'flake.nix', 'nix/module.nix', 'nix/settings.nix', 'nix/vllm.nix', 'ops/Dockerfile.vllm', 'ops/docker-compose.yml', 'ops/requirements.lock']);
});
