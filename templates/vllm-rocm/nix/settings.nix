# The one file a team edits: which GPUs, where vLLM and PyTorch come from, what the image is called.
{
  # GPU targets (LLVM names), the single list both the PyTorch/vLLM kernel build (PYTORCH_ROCM_ARCH
  # through nixpkgs' gpuTargets) and the vllm-server wrapper (VLLM_GPU_TARGETS) use.
  # gfx1151: Strix Halo (Ryzen AI Max), gfx1100: Radeon RX 7900, gfx942: Instinct MI300.
  gpuTargets = [
    "gfx1151"
    "gfx1100"
    "gfx942"
  ];

  # Where vLLM and PyTorch come from:
  #   "nixpkgs": nixpkgs' python3Packages.vllm and torch, built with rocmSupport for gpuTargets
  #              (from source, hours on a big machine, unless your binary cache has them);
  #   "wheels":  the prebuilt wheels below, fetched by URL and sha256 and patched for the store.
  source = "nixpkgs";

  # Used when source = "wheels". python: the nixpkgs interpreter the wheels' tag names; upstream's
  # ROCm wheels are cp312 only (python312). hash: the SRI sha256 of each file, from
  #   nix store prefetch-file --hash-type sha256 <url>     (or: nix-prefetch-url <url>)
  # An empty hash is refused with that hint, never fetched unchecked.
  # The vLLM ROCm wheel pins its own torch, triton and amdsmi builds (vllm
  # tools/vllm-rocm/pin_rocm_dependencies.py), published beside it in upstream's index
  # https://wheels.vllm.ai/rocm/<version>/<variant> (docs/getting_started/installation/gpu.rocm.inc.md:
  # variants rocm700 for 0.14.0-0.18.0, rocm721 for nightlies). The names below follow upstream's
  # own examples (vllm 0.18.0+rocm700 from those docs; torch/triton/amdsmi versions from that
  # script's docstring) and were NOT checked against the index (no network where this template is
  # tested): open the index, copy each file's real URL and version, then prefetch its hash.
  wheels = {
    python = "python312";
    packages = [
      {
        pname = "torch";
        version = "2.9.0a0+git1c57644";
        url = "https://wheels.vllm.ai/rocm/0.18.0/rocm700/torch-2.9.0a0%2Bgit1c57644-cp312-cp312-linux_x86_64.whl";
        hash = "";
      }
      {
        pname = "triton";
        version = "3.4.0";
        url = "https://wheels.vllm.ai/rocm/0.18.0/rocm700/triton-3.4.0-cp312-cp312-linux_x86_64.whl";
        hash = "";
      }
      {
        # vLLM finds ROCm through amdsmi (vllm/platforms/__init__.py); without it the server stops
        # with "Failed to infer device type".
        pname = "amdsmi";
        version = "26.1.0+5df6c765";
        url = "https://wheels.vllm.ai/rocm/0.18.0/rocm700/amdsmi-26.1.0%2B5df6c765-cp312-cp312-linux_x86_64.whl";
        hash = "";
      }
      {
        pname = "vllm";
        version = "0.18.0+rocm700";
        url = "https://wheels.vllm.ai/rocm/0.18.0/rocm700/vllm-0.18.0%2Brocm700-cp312-cp312-linux_x86_64.whl";
        hash = "";
      }
    ];
  };

  image = {
    name = "vllm-rocm";
    tag = "latest";
    # The repository the image is built from: its org.opencontainers.image.source label, by which
    # GHCR links the package to the repository (e.g. "https://github.com/acme/vllm-rocm"); null: none.
    source = null;
    licenses = null; # an SPDX expression, e.g. "Apache-2.0"
  };

  # The port vLLM listens on inside the container and in the NixOS service.
  port = 8000;
}
