// What a dying vLLM/ROCm server prints, what it means and what fixes it. The stage scans the server
// log with these while it waits, so a known failure ends the wait at once with a diagnosis.
// docs/troubleshooting.md explains each in more depth; keep the two in step.

export interface FailureSignature {
  id: string;
  title: string;
  pattern: RegExp;
  meaning: string;
  fix: string;
}

export const SIGNATURES: readonly FailureSignature[] = [
  {
    id: 'kfd-permission',
    title: '/dev/kfd permission denied',
    pattern: /\/dev\/kfd\b.*(permission denied|EACCES)|(permission denied|unable to open|failed to open).*\/dev\/kfd/i,
    meaning: 'The server cannot open the ROCm compute device: the container lacks /dev/kfd, or its user is not in the group that owns it.',
    fix: 'Run the container with --device /dev/kfd --device /dev/dri and --group-add of the numeric GIDs owning them (gpu: amd does this); on the host, add the runner user to the render and video groups.',
  },
  {
    id: 'no-hip-gpus',
    title: 'No HIP GPUs are available',
    pattern: /No HIP GPUs are available|hipErrorNoDevice|no ROCm-capable device is detected/,
    meaning: 'PyTorch found no GPU: the devices are not in the container, the render group is missing, or HIP_VISIBLE_DEVICES/ROCR_VISIBLE_DEVICES hide them.',
    fix: 'Pass /dev/kfd and /dev/dri with --group-add of their numeric GIDs (gpu: amd); check that HIP_VISIBLE_DEVICES/ROCR_VISIBLE_DEVICES in env name an existing GPU.',
  },
  {
    id: 'no-kernel-for-gfx',
    title: 'No GPU code for this gfx target',
    pattern: /invalid device function|hipErrorNoBinaryForGpu|Unable to find code object for all current devices|no kernel image is available for execution/,
    meaning: 'The image has no compiled kernels for this GPU\'s gfx target.',
    fix: 'Rebuild the image with this target in PYTORCH_ROCM_ARCH / GPU_TARGETS (e.g. gfx1151), or run it on a GPU it was built for; do not paper over it with HSA_OVERRIDE_GFX_VERSION.',
  },
  {
    id: 'driver-too-old',
    title: 'Host amdgpu driver too old for the image\'s ROCm',
    pattern: /HSA_STATUS_ERROR_INCOMPATIBLE_ARGUMENTS|Incompatible kernel and userspace/,
    meaning: 'The ROCm runtime in the image needs a newer amdgpu kernel driver (KFD) than the host has.',
    fix: 'Update the host\'s amdgpu driver (amdgpu-dkms of the image\'s ROCm release, or a newer kernel), or build the image on the ROCm release the host supports.',
  },
  {
    id: 'free-memory-below-utilization',
    title: 'Free GPU memory below --gpu-memory-utilization',
    pattern: /Free memory on device.*is less than desired GPU memory utilization/,
    meaning: 'vLLM wants a fraction of the GPU memory that is not free. On Strix Halo the GPU sees the BIOS carve-out (UMA) plus GTT; a small carve-out or GTT limit leaves too little.',
    fix: 'Lower --gpu-memory-utilization in args, free the GPU (other processes), or on an APU raise the carve-out in the BIOS or the GTT size (amdgpu.gttsize / ttm.pages_limit kernel parameters).',
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
    id: 'port-in-use',
    title: 'Port already in use',
    pattern: /Address already in use|address already in use/,
    meaning: 'Something on the runner already listens on the port.',
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

/** The first known signature in the given log lines, in catalogue order (most specific first). */
export function findSignature(lines: readonly string[]): { signature: FailureSignature; line: string } | undefined {
  for (const signature of SIGNATURES) {
    const line = lines.find((l) => signature.pattern.test(l));
    if (line !== undefined) return { signature, line };
  }
  return undefined;
}
