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
const stubbedVllmExpr = `{ dir, settingsJson }:
  let
    lib = {
      subtractLists = a: builtins.filter (x: !(builtins.elem x a));
      concatStringsSep = builtins.concatStringsSep;
      makeLibraryPath = ps: builtins.concatStringsSep ":" (map (p: "\${p}/lib") ps);
      last = l: builtins.elemAt l (builtins.length l - 1);
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
          prev = { torch = recorded "torch"; vllm = recorded "vllm"; python.sitePackages = "lib/python\${version}/site-packages"; buildPythonPackage = args: args; };
          final = prev // packageOverrides final prev;
        in { withPackages = f: { outPath = "/stub/python\${version}-env"; packages = f final; set = final; }; };
    };
    pkgs = {
      inherit lib;
      rocmPackages = builtins.listToAttrs (map (n: { name = n; value = "/stub/rocm/\${n}"; }) [ "rocm-runtime" "rocm-comgr" "rocblas" "hipblaslt" "miopen" "rccl" "rocminfo" "rocm-smi" ]) // {
        clr = { outPath = "/stub/rocm/clr"; version = "7.0.2"; gpuTargets = [ "gfx900" "gfx906" "gfx908" "gfx90a" "gfx942" "gfx1010" "gfx1030" "gfx1100" "gfx1101" "gfx1102" "gfx1151" "gfx1200" "gfx1201" ]; };
      };
      python3 = python "3.13";
      python311 = python "3.11";
      writeShellApplication = args: args // { outPath = "/stub/vllm-server"; };
      dockerTools.buildLayeredImage = args: args;
      mkShell = args: args;
      fetchurl = args: args;
      stdenv.cc.cc.lib = "/stub/libstdc++";
    } // builtins.listToAttrs (map (n: { name = n; value = "/stub/\${n}"; }) [ "coreutils" "bashInteractive" "cacert" "autoPatchelfHook" "numactl" "zlib" "libdrm" "elfutils" ]);
    settings = import (dir + "/nix/settings.nix") // builtins.fromJSON settingsJson;
    vllm = import (dir + "/nix/vllm.nix") { inherit pkgs settings; };
    server = vllm.vllm-server;
    set = server.passthru.pythonEnv.set;
  in {
    targets = settings.gpuTargets;
    env = server.runtimeEnv;
    scriptIsBinVllmServer = server.text == builtins.readFile (dir + "/bin/vllm-server");
    torchTargets = set.torch.overriddenWith.gpuTargets or null;
    vllmTargets = set.vllm.overriddenWith.gpuTargets or null;
    wheel = if settings.source == "wheels" then { inherit (set.vllm) format; src = set.vllm.src.name; patched = builtins.elem "/stub/autoPatchelfHook" set.vllm.nativeBuildInputs; } else null;
    image = { inherit (vllm.vllm-container) created; entrypoint = vllm.vllm-container.config.Entrypoint; };
  }`;

describe('nix/vllm.nix, with stand-ins for nixpkgs', () => {
  const evaluate = (settings: object = {}) => attempt('nix-instantiate', ['--eval', '--strict', '--json', '--argstr', 'dir', TEMPLATE, '--argstr', 'settingsJson', JSON.stringify(settings), '-E', stubbedVllmExpr]);

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
    assert.equal(wiring.env.VLLM_PYTHON, '/stub/python3.13-env/bin/python');
    assert.match(wiring.env.VLLM_ROCM_LIBRARY_PATH, /^\/stub\/rocm\/clr\/lib:\/stub\/rocm\/rocm-runtime\/lib:/);
    assert.equal(wiring.scriptIsBinVllmServer, true, 'the wrapper runs bin/vllm-server, the Docker image\'s entrypoint');
    assert.deepEqual(wiring.image, { created: '1970-01-01T00:00:01Z', entrypoint: ['/stub/vllm-server/bin/vllm-server'] });
  });

  test('wheels are fetched by URL and sha256 and patched; a missing hash, an unknown target or source is refused', () => {
    const hash = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    const wheels = { python: 'python311', packages: [{ pname: 'torch', version: '2.9.1', url: 'https://wheels.example/torch-2.9.1-cp311-cp311-linux_x86_64.whl', hash }, { pname: 'vllm', version: '0.12.0+rocm711', url: 'https://wheels.example/vllm-0.12.0%2Brocm711-cp311-cp311-linux_x86_64.whl', hash }] };
    const result = evaluate({ source: 'wheels', wheels });
    assert.equal(result.ok, true, result.output);
    const wiring = JSON.parse(result.output);
    assert.deepEqual(wiring.wheel, { format: 'wheel', src: 'vllm-0.12.0+rocm711-cp311-cp311-linux_x86_64.whl', patched: true });
    assert.equal(wiring.env.VLLM_PYTHON, '/stub/python3.11-env/bin/python');

    const unhashed = evaluate({ source: 'wheels' });
    assert.equal(unhashed.ok, false);
    assert.match(unhashed.output, /wheel vllm has no hash; run `nix store prefetch-file --hash-type sha256 .*vllm-0\.12\.0%2Brocm711/);
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
    assert.deepEqual(buildArgs.map((a) => a.split('=')[0]), ['GFX_ARCH', 'VLLM_WHEEL_URL', 'VLLM_WHEEL_SHA256']);
    const result = await runStep('.', job, {
      inputs: { builder: 'docker', context: '.', file: 'ops/Dockerfile.vllm', target: 'entrypoint', cache: 'none', 'build-args': 'GFX_ARCH=gfx1100\nVLLM_WHEEL_URL=https://wheels.example/vllm.whl\nVLLM_WHEEL_SHA256=0000' },
    });
    assert.equal(result.exitCode, 0, `${result.stdout.slice(-3000)}\n${result.stderr.slice(-1000)}`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, [], 'every build arg the README passes is an ARG of the Dockerfile');
    assert.match(result.outputs.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  });
});

describe('ops/docker-compose.yml', () => {
  // As on a host where the shell sets neither: then neither reaches the container.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'HIP_VISIBLE_DEVICES' && name !== 'HF_TOKEN'));
  const config = (dir: string) => attempt('docker-compose', ['-f', 'ops/docker-compose.yml', 'config', '--format', 'json'], { cwd: dir, env });

  test('Compose validates it, with the GPU flags, the model volume and the health check', () => {
    sh('docker-compose', ['-f', 'ops/docker-compose.yml', 'config', '-q'], { cwd: TEMPLATE });
    const result = config(TEMPLATE);
    assert.equal(result.ok, true, result.output);
    const vllm = JSON.parse(result.output).services.vllm;
    assert.deepEqual(vllm.devices.map((d: { source: string }) => d.source), ['/dev/kfd', '/dev/dri']);
    assert.deepEqual(vllm.group_add, ['video', 'render']);
    assert.equal(vllm.ipc, 'host');
    assert.deepEqual(vllm.security_opt, ['seccomp=unconfined']);
    assert.deepEqual(vllm.volumes.map((v: { target: string }) => v.target), ['/models']);
    assert.match(vllm.healthcheck.test.join(' '), /http:\/\/127\.0\.0\.1:8000\/health/);
    assert.equal(vllm.build.dockerfile, 'ops/Dockerfile.vllm');
    // Unset in the shell: not passed at all (an empty HIP_VISIBLE_DEVICES hides every GPU).
    assert.equal(vllm.environment?.HIP_VISIBLE_DEVICES ?? null, null);
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
    assert.deepEqual(vllm.secrets, [{ source: 'vllm_api_key', target: '/run/secrets/vllm_api_key' }]);
    assert.equal(vllm.environment.VLLM_API_KEY_FILE, '/run/secrets/vllm_api_key');
    assert.equal(vllm.environment.VLLM_API_KEY, undefined);
    assert.doesNotMatch(text, /sk-compose-test/, 'the key is not in the container config');
    // A copy that publishes on every interface is seen.
    const everywhere = published(templateCopy({ file: 'ops/docker-compose.yml', from: '"${VLLM_BIND:-127.0.0.1}:${VLLM_PORT:-8000}:8000"', to: '"${VLLM_PORT:-8000}:8000"' }));
    assert.notEqual(everywhere.json.services.vllm.ports[0].host_ip, '127.0.0.1');
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

  test('passes GPU choice and arguments on, and drops a stale HSA override on ROCm 7 only', () => {
    const dir = mkdtempSync(join(root, 'wrapper-'));
    const python = join(dir, 'python');
    // Stands in for vLLM's Python: prints what the server would have been started with.
    writeFileSync(python, '#!/bin/sh\necho "HSA=${HSA_OVERRIDE_GFX_VERSION-unset} HIP=${HIP_VISIBLE_DEVICES-unset} ROCM=$ROCM_PATH HOME=$ROCM_HOME ARGS=$*"\n');
    chmodSync(python, 0o755);
    const run = (version: string, env: Record<string, string>, args: string[]) => {
      const rocm = join(dir, `rocm-${version}`);
      mkdirSync(join(rocm, '.info'), { recursive: true });
      writeFileSync(join(rocm, '.info', 'version'), `${version}\n`);
      const { output } = attempt(wrapper, args, { env: { PATH: process.env.PATH, VLLM_PYTHON: python, ROCM_PATH: rocm, ...env } });
      return { output, rocm };
    };

    const seven = run('7.0.2', { HSA_OVERRIDE_GFX_VERSION: '11.0.0', HIP_VISIBLE_DEVICES: '1' }, ['--model', 'Qwen/Qwen2.5-0.5B-Instruct', '--port', '8001']);
    assert.match(seven.output, /ignoring HSA_OVERRIDE_GFX_VERSION=11\.0\.0/);
    assert.ok(seven.output.includes(`HSA=unset HIP=1 ROCM=${seven.rocm} HOME=${seven.rocm} ARGS=-m vllm.entrypoints.openai.api_server --model Qwen/Qwen2.5-0.5B-Instruct --port 8001`), seven.output);

    const six = run('6.4.3', { HSA_OVERRIDE_GFX_VERSION: '11.0.0', VLLM_MODEL: 'm' }, []);
    assert.ok(six.output.includes('HSA=11.0.0 HIP=unset'), six.output);
    assert.ok(six.output.includes('ARGS=-m vllm.entrypoints.openai.api_server --model m'), six.output);

    const kept = run('7.2.4', { HSA_OVERRIDE_GFX_VERSION: '11.0.0', VLLM_KEEP_HSA_OVERRIDE: '1' }, []);
    assert.ok(kept.output.includes('HSA=11.0.0'), kept.output);
    assert.match(run('7.2.4', { HIP_VISIBLE_DEVICES: '' }, []).output, /HIP_VISIBLE_DEVICES is set but empty/);
  });

  test('takes the API key from VLLM_API_KEY_FILE; an empty, blank or missing file stops it before vLLM starts', () => {
    const dir = mkdtempSync(join(root, 'wrapper-key-'));
    const python = join(dir, 'python');
    writeFileSync(python, '#!/bin/sh\necho "KEY=${VLLM_API_KEY-unset} ARGS=$*"\n');
    chmodSync(python, 0o755);
    const run = (keyFile?: string) => {
      const r = spawnSync(wrapper, ['--model', 'm'], { encoding: 'utf8', env: { PATH: process.env.PATH, VLLM_PYTHON: python, ROCM_PATH: dir, ...(keyFile ? { VLLM_API_KEY_FILE: keyFile } : {}) } });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    const key = join(dir, 'api-key');
    writeFileSync(key, 'sk-wrapper-test\n');
    assert.deepEqual(run(key), { status: 0, output: 'KEY=sk-wrapper-test ARGS=-m vllm.entrypoints.openai.api_server --model m\n' });
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
