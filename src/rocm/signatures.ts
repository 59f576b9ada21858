// What a dying vLLM/ROCm server (or `docker run` before it) prints, what it means and what fixes it.
// The stage scans the server log with these while it waits, so a known failure ends the wait at once
// with a diagnosis. Each pattern is the text upstream prints, cited beside it; checked in catalogue
// order, most specific first. docs/troubleshooting.md explains each in more depth; keep the two in step.

export interface FailureSignature {
  id: string;
  title: string;
  pattern: RegExp;
  meaning: string;
  fix: string;
  /** A fix naming what this run passed, where the generic one cannot (see SignatureContext). */
  fixFor?: (context: SignatureContext) => string | undefined;
}

/**
 * What the stage knows about how it started the server. Both lists come from an image's config or
 * the workflow: untrusted data, only ever quoted (bounded, JSON-escaped) into a fix text.
 */
export interface SignatureContext {
  /** The image's ENTRYPOINT (`docker image inspect`), [] when it has none; undefined in `command` mode. */
  entrypoint?: readonly string[];
  /** The words the stage passed after the image (the `args` input or its default). */
  args?: readonly string[];
}

const SERVER_ARGS_FIX =
  'The image\'s ENTRYPOINT and args together must make one `vllm serve <model> [engine arguments]`: with an ENTRYPOINT that already starts the server (upstream\'s vllm/vllm-openai-rocm has ["vllm","serve"]) args holds the model and engine arguments only; without one, args starts with `vllm serve`. Check each engine argument against `vllm serve --help` of the image\'s vLLM version.';

export const SIGNATURES: readonly FailureSignature[] = [
  {
    // The server never ran: dockerd could not publish the port. moby libnetwork/portallocator/portallocator.go
    // (ErrPortAlreadyAllocated: "Bind for %s:%d failed: port is already allocated", another container holds
    // it); libnetwork/drivers/bridge ("driver failed programming external connectivity on endpoint %s (%s): %v"
    // around "Error starting userland proxy: listen tcp4 …: bind: address already in use" in dockerd ≤ 27 and
    // "failed to bind host port for …: address already in use" in 28, a host process holds it).
    id: 'docker-port-taken',
    title: '`docker run` failed: the host port is taken',
    pattern: /port is already allocated|driver failed programming external connectivity|failed to bind host port for/,
    meaning: '`docker run` itself failed before the server started: dockerd could not publish the port on the host because another container ("port is already allocated") or another process ("address already in use") holds it.',
    fix: 'Choose another port, or stop what holds it (`docker ps --filter publish=<port>`, `ss -ltnp`). This stage\'s post step removes its own containers even after a failed or cancelled main step; one started by something else stays.',
  },
  {
    // CPython Lib/argparse.py: ArgumentParser.error() prints "%(prog)s: error: %(message)s" and exits 2;
    // messages "unrecognized arguments: %s" (parse_args), "the following arguments are required: %s"
    // (_parse_known_args), "argument %s: invalid %s value: %r" / "invalid choice" / "expected one argument".
    // vLLM's FlexibleArgumentParser (vllm/utils/argparse_utils.py) is an argparse.ArgumentParser.
    id: 'server-arguments',
    title: 'vLLM refused its command line',
    pattern: /: error: (unrecognized arguments: |the following arguments are required: |argument \S+: (invalid |expected |ambiguous option))/,
    meaning: 'vLLM\'s argument parser rejected the command line and exited with status 2 before loading anything: a word it does not know (often `vllm serve` twice, once from the image\'s ENTRYPOINT and once from args), a missing model, or a bad value.',
    fix: SERVER_ARGS_FIX,
    fixFor: serverArgumentsFix,
  },
  {
    id: 'kfd-permission',
    title: '/dev/kfd permission denied',
    // ROCR's libhsakmt opens /dev/kfd silently (libhsakmt/src/openclose.c), so vLLM and PyTorch only
    // print it where Python opens it: CPython's OSError "[Errno 13] Permission denied: '/dev/kfd'".
    pattern: /\/dev\/kfd\b.*(permission denied|EACCES)|(permission denied|unable to open|failed to open).*\/dev\/kfd/i,
    meaning: 'The server cannot open the ROCm compute device: the container lacks /dev/kfd, or its user is not in the group that owns it.',
    fix: 'Run the container with --device /dev/kfd --device /dev/dri and --group-add of the numeric GIDs owning them (gpu: amd does this); on the host, add the runner user to the render and video groups.',
  },
  {
    // CPython Lib/getpass.py getuser(): LOGNAME, USER, LNAME, USERNAME, then pwd.getpwuid(os.getuid()),
    // whose KeyError is Modules/pwdmodule.c "getpwuid(): uid not found: %d"; Python ≥ 3.13 re-raises it as
    // OSError('No username set in the environment'). torch/_inductor/runtime/cache_dir_utils.py calls it on import.
    id: 'no-user-entry',
    title: 'The server\'s user has no name (no /etc/passwd entry)',
    pattern: /getpwuid\(\): uid not found|No username set in the environment/,
    meaning: 'Python\'s getpass.getuser() found neither USER/LOGNAME in the environment nor an /etc/passwd entry for the container\'s uid; PyTorch\'s inductor cache directory asks for it while vLLM is imported, so the server dies at once. Images without /etc/passwd (a Nix dockerTools image) or a --user uid the image does not list do this.',
    fix: 'Give the image an /etc/passwd entry for its user (Nix: `dockerTools.fakeNss` in the image\'s contents; Dockerfile: `useradd`), or set USER and LOGNAME in the image\'s Env (or in this stage\'s env input).',
  },
  {
    // vLLM vllm/platforms/__init__.py rocm_platform_plugin(): `import amdsmi; amdsmi.amdsmi_init()`, a failure
    // only logged at DEBUG ("ROCm platform is not available because: %s"); vllm/platforms/rocm.py logs
    // "Failed to import from amdsmi with %r". ROCm/amdsmi py-interface/amdsmi_exception.py:
    // AmdSmiLibraryException's str is "Error code:\n\t%d | %s".
    id: 'amdsmi-unavailable',
    title: 'amdsmi is missing or failed',
    pattern: /No module named '?amdsmi'?|AmdSmiLibraryException: |Failed to import from amdsmi/,
    meaning: 'vLLM detects a ROCm platform through the amdsmi Python package; it is not installed in the image (or not the one matching its ROCm), or its library could not initialise (no /dev/dri access, amdgpu driver not loaded).',
    fix: 'Install amdsmi from the image\'s own ROCm (`pip install /opt/rocm/share/amd_smi`, as upstream\'s docker/Dockerfile.rocm does; the Nix template puts it in the Python environment); keep --device /dev/dri with its --group-add. VLLM_LOGGING_LEVEL=DEBUG in env shows amdsmi\'s own error.',
  },
  {
    // vLLM vllm/config/device.py DeviceConfig.__post_init__: no platform plugin claimed the machine.
    id: 'device-type-unknown',
    title: 'vLLM found no GPU platform ("Failed to infer device type")',
    pattern: /Failed to infer device type/,
    meaning: 'None of vLLM\'s platform checks matched: on ROCm that check is amdsmi listing a GPU (vllm/platforms/__init__.py), so amdsmi is missing or sees no GPU (no /dev/dri in the container), or the image holds a CUDA or CPU build of vLLM.',
    fix: 'Use an image with vLLM\'s ROCm build and amdsmi installed (pip install /opt/rocm/share/amd_smi); pass /dev/kfd and /dev/dri with --group-add of their GIDs (gpu: amd); set VLLM_LOGGING_LEVEL=DEBUG in env to see why each platform was refused.',
  },
  {
    id: 'no-hip-gpus',
    title: 'No HIP GPUs are available',
    pattern: /No HIP GPUs are available|hipErrorNoDevice|no ROCm-capable device is detected/,
    meaning: 'PyTorch found no GPU: the devices are not in the container, the render group is missing, or HIP_VISIBLE_DEVICES/ROCR_VISIBLE_DEVICES hide them.',
    fix: 'Pass /dev/kfd and /dev/dri with --group-add of their numeric GIDs (gpu: amd); check that HIP_VISIBLE_DEVICES/ROCR_VISIBLE_DEVICES in env name an existing GPU.',
  },
  {
    // ROCm/rocBLAS library/src/tensile_host.cpp: "rocBLAS error: Cannot read %s: %s for GPU arch : %s", then
    // " List of available TensileLibrary Files : " (the arches it does have).
    id: 'no-tensile-for-gfx',
    title: 'rocBLAS has no kernels for this GPU',
    pattern: /Cannot read \S*TensileLibrary|for GPU arch : gfx[0-9a-f]+/,
    meaning: 'The image\'s rocBLAS (or hipBLASLt) was built without Tensile kernels for this GPU\'s gfx target: its library directory has no TensileLibrary file for it. The lines after it in the log list the targets it does have.',
    fix: 'Use an image whose ROCm libraries were built for this target (a newer ROCm release, or nixpkgs\' rocmPackages with it in gpuTargets); setting HSA_OVERRIDE_GFX_VERSION to a listed target only works where that target\'s code really runs on this GPU.',
  },
  {
    // ROCm/clr hipamd/src/hip_code_object.cpp: "hipErrorNoBinaryForGpu: Unable to find code object for all
    // current devices!"; rocclr/device/rocm/rocprogram.cpp: "Error: AMD HSA Code Object loading failed: " +
    // hsa_status_string, where ROCR loader/executable.cpp answers HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS
    // for "code object's ISA (…) is not supported by the agent".
    id: 'no-kernel-for-gfx',
    title: 'No GPU code for this gfx target',
    pattern: /invalid device function|hipErrorNoBinaryForGpu|Unable to find code object for all current devices|no kernel image is available for execution|Code Object loading failed: HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS|is not supported by the agent/,
    meaning: 'The image has no compiled kernels for this GPU\'s gfx target: the ROCm runtime found no code object for it (or refused one built for another ISA).',
    fix: 'Use a torch and vLLM built for this target (compare torch.cuda.get_arch_list() with the GPU\'s target): their kernels are fixed when they are compiled (PYTORCH_ROCM_ARCH at their build: the flake\'s gpuTargets, or the wheel\'s and its torch\'s build targets; a GFX_ARCH build arg that only sets env compiles nothing), or run the image on a GPU it was built for; do not paper over it with HSA_OVERRIDE_GFX_VERSION.',
  },
  {
    // ROCm/ROCR-Runtime runtime/hsa-runtime/core/runtime/amd_topology.cpp:
    // "HSA Error:  Incompatible kernel and userspace, %s disabled. Upgrade amdgpu."
    id: 'driver-too-old',
    title: 'Host amdgpu driver too old for the image\'s ROCm',
    pattern: /Incompatible kernel and userspace/,
    meaning: 'The ROCm runtime in the image needs a newer amdgpu kernel driver (KFD) than the host has, and disabled the GPU.',
    fix: 'Update the host\'s amdgpu driver (amdgpu-dkms of the image\'s ROCm release, or a newer kernel), or build the image on the ROCm release the host supports.',
  },
  {
    // ROCm/ROCR-Runtime runtime/hsa-runtime/core/runtime/runtime.cpp VMFaultHandler: "Memory access fault by
    // GPU node-%u (Agent handle: %p) on address %p%s. Reason: %s." (Page not present or supervisor privilege,
    // Write access to a read-only page, …), then the process aborts.
    id: 'gpu-memory-fault',
    title: 'GPU memory access fault',
    pattern: /Memory access fault by GPU node-\d+/,
    meaning: 'A GPU kernel touched memory it may not (the Reason says how) and the ROCm runtime aborted the process. Usual causes: kernels for another target forced onto this GPU by HSA_OVERRIDE_GFX_VERSION, a kernel bug in this vLLM/ROCm build for this GPU, or (on APUs) amdgpu/firmware bugs fixed in newer kernels.',
    fix: 'Remove HSA_OVERRIDE_GFX_VERSION; retry with --enforce-eager in args to rule out graph capture; update the host kernel and linux-firmware; if it stays, report it upstream with the log (AMD_LOG_LEVEL=3 in env adds the runtime\'s trace).',
  },
  {
    // ROCm/ROCR-Runtime core/runtime/hsa.cpp hsa_status_string: "HSA_STATUS_ERROR_OUT_OF_RESOURCES: The
    // runtime failed to allocate the necessary resources. …"; runtime.cpp returns it from hsa_init when the
    // driver cannot be opened, amd_aql_queue.cpp when a queue runs out of scratch memory. ROCm/clr
    // rocclr/device/rocm/rocdevice.cpp callbackQueue: "Callback: Queue %p Aborting with error : %s Code: 0x%x
    // Available Free mem : %zu MB".
    id: 'hsa-out-of-resources',
    title: 'ROCm runtime out of resources',
    pattern: /HSA_STATUS_ERROR_OUT_OF_RESOURCES/,
    meaning: 'The ROCm runtime could not get what it needed: at start-up, the KFD device (no /dev/kfd access or no amdgpu driver); while running, GPU memory for a queue\'s scratch space (the abort line says how much was free).',
    fix: 'At start-up: pass /dev/kfd with --group-add of its GID (gpu: amd) and check the preflight\'s /dev/kfd row. While running: lower --gpu-memory-utilization or --max-model-len in args, or free the GPU; on an APU raise the carve-out or GTT size.',
  },
  {
    // ROCm/ROCR-Runtime core/runtime/hsa.cpp: "HSA_STATUS_ERROR_EXCEPTION: An HSAIL operation resulted in a
    // hardware exception."; amd_aql_queue.cpp maps wave abort/trap/math errors to it, an invalid dispatch
    // to HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS. ROCm/clr rocdevice.cpp: "Callback: Queue %p aborting with
    // error : %s code: 0x%x", then abort().
    id: 'gpu-kernel-exception',
    title: 'A GPU kernel raised a hardware exception',
    pattern: /HSA_STATUS_ERROR_EXCEPTION|aborting with error : HSA_STATUS_ERROR_(INCOMPATIBLE_ARGUMENTS|ILLEGAL_INSTRUCTION|MEMORY_APERTURE_VIOLATION)/,
    meaning: 'A kernel on the GPU trapped, aborted or was dispatched with invalid arguments, and the ROCm runtime aborted the process: kernels built for another target (HSA_OVERRIDE_GFX_VERSION), or a kernel bug in this vLLM/ROCm build for this GPU.',
    fix: 'Remove HSA_OVERRIDE_GFX_VERSION and use an image built for this target; retry with --enforce-eager in args; try another attention backend (VLLM_ATTENTION_BACKEND / --attention-backend); report it upstream with the log if it stays.',
  },
  {
    id: 'free-memory-below-utilization',
    title: 'Free GPU memory below --gpu-memory-utilization',
    pattern: /Free memory on device.*is less than desired GPU memory utilization/,
    meaning: 'vLLM wants a fraction of the GPU memory that is not free. On Strix Halo the GPU sees the BIOS carve-out (UMA) plus GTT; a small carve-out or GTT limit leaves too little.',
    fix: 'Lower --gpu-memory-utilization in args, free the GPU (other processes), or on an APU raise the carve-out in the BIOS or the GTT size (amdgpu.gttsize / ttm.pages_limit kernel parameters).',
  },
  {
    // vLLM vllm/v1/core/kv_cache_utils.py _check_enough_kv_cache_memory: "No available memory for the cache
    // blocks. …" and "To serve at least one request with the models's max seq len (%d), (%s GiB KV cache is
    // needed, which is larger than the available KV cache memory (%s GiB). …"; the V0 engine said "The
    // model's max seq len (%d) is larger than the maximum number of tokens that can be stored in KV cache".
    id: 'kv-cache-too-small',
    title: 'KV cache too small for the model\'s context length',
    pattern: /No available memory for the cache blocks|KV cache is needed, which is larger than the available KV cache memory|is larger than the maximum number of tokens that can be stored in KV cache/,
    meaning: 'After loading the weights, the memory vLLM may use (--gpu-memory-utilization of the GPU) leaves too little KV cache for one request of the model\'s full context length (its max_position_embeddings unless --max-model-len says less). vLLM prints the longest context that would fit.',
    fix: 'Add --max-model-len <n> to args (at most the estimate vLLM printed), or raise --gpu-memory-utilization if the GPU has room; a smaller or quantised model also frees memory.',
  },
  {
    id: 'gpu-out-of-memory',
    title: 'GPU out of memory',
    pattern: /HIP out of memory|hipErrorOutOfMemory|torch\.OutOfMemoryError|CUDA out of memory/,
    meaning: 'The model, its KV cache or the CUDA-graph capture did not fit in GPU memory.',
    fix: 'Use a smaller model, lower --max-model-len or --gpu-memory-utilization, or add --enforce-eager; on Strix Halo raise the carve-out or GTT size.',
  },
  {
    id: 'model-download',
    title: 'Model could not be downloaded',
    pattern: /GatedRepoError|RepositoryNotFoundError|401 Client Error|LocalEntryNotFoundError|couldn't connect to 'https:\/\/huggingface\.co'/,
    meaning: 'The model is gated or private, the name is wrong, or the runner cannot reach Hugging Face.',
    fix: 'Pass hf-token (a token with access to the model), check model, or fill model-cache on the runner (read-only and offline by default; fill it from a trusted job with model-cache-mode: rw).',
  },
  {
    // The server's own bind: uvicorn (vllm/entrypoints/openai/api_server.py binds the socket itself) gets
    // OSError EADDRINUSE, "[Errno 98] Address already in use". Inside a container with a published port
    // this needs --network host; `docker run`'s own refusal is docker-port-taken above.
    id: 'port-in-use',
    title: 'Port already in use',
    pattern: /Address already in use|address already in use/,
    meaning: 'The server could not listen on its port: something else on the same network namespace (the runner, with `command` or --network host) already listens there.',
    fix: 'Choose another port, or stop the leftover server (a previous job\'s container is removed by this stage\'s post step).',
  },
  {
    id: 'engine-dead',
    title: 'vLLM engine died',
    pattern: /EngineDeadError|Engine core initialization failed|Engine process failed to start/,
    meaning: 'The engine process exited; the API server cannot answer. The lines before this in the log say why.',
    fix: 'Read the log lines above the error; the most common causes are listed in docs/troubleshooting.md.',
  },
];

/**
 * How much of one log line the patterns read. Every upstream message above fits with its prefix many
 * times over; a hostile multi-megabyte line would otherwise cost seconds per pattern (several have
 * `.*` between two words) while the stage waits on the log.
 */
const SCAN_LIMIT = 4096;

/**
 * The first known signature in the given log lines, in catalogue order (most specific first). With a
 * context, a signature that can name what this run passed returns that fix in place of its generic one.
 */
export function findSignature(lines: readonly string[], context: SignatureContext = {}): { signature: FailureSignature; line: string } | undefined {
  for (const signature of SIGNATURES) {
    const line = lines.find((l) => signature.pattern.test(l.length > SCAN_LIMIT ? l.slice(0, SCAN_LIMIT) : l));
    if (line === undefined) continue;
    const fix = signature.fixFor?.(context);
    return { signature: fix ? { ...signature, fix } : signature, line };
  }
  return undefined;
}

/** At most this many characters of an untrusted word list go into a fix text. */
const QUOTE_LIMIT = 200;

function quoteWords(words: readonly string[]): string {
  const text = JSON.stringify(words);
  return text.length <= QUOTE_LIMIT ? text : `${text.slice(0, QUOTE_LIMIT)}…`;
}

/** Ends with the words `vllm serve` (an entrypoint that starts the server) / starts with them (args). */
const endsWithServe = (words: readonly string[]): boolean => words.length >= 1 && words[words.length - 1] === 'serve' && (words.length === 1 || /(^|\/)vllm$/.test(words[words.length - 2]!));
const startsWithServe = (words: readonly string[]): boolean => words[0] !== undefined && /(^|\/)vllm$/.test(words[0]) && words[1] === 'serve';

function serverArgumentsFix(context: SignatureContext): string | undefined {
  const { entrypoint, args } = context;
  if (entrypoint === undefined || args === undefined) return undefined;
  const said = `The image's ENTRYPOINT is ${entrypoint.length ? quoteWords(entrypoint) : 'empty'} and args were ${quoteWords(args)}`;
  if (endsWithServe(entrypoint) && startsWithServe(args)) {
    return `${said}: the ENTRYPOINT already runs \`vllm serve\`, so args must not repeat it. Set args to the model and engine arguments only (e.g. "${args.slice(2, 3).join(' ') || '<model>'} --host 0.0.0.0 --port <port>").`;
  }
  if (entrypoint.length === 0 && !startsWithServe(args)) {
    return `${said}: with no ENTRYPOINT, args is the whole command and must start with \`vllm serve <model>\`.`;
  }
  return `${said}. ${SERVER_ARGS_FIX}`;
}
