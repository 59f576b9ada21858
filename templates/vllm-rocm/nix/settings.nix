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

  # Used when source = "wheels". python: the nixpkgs interpreter the wheels' tag names (cp311 is
  # python311, cp312 is python312). hash: the SRI sha256 of each file, from
  #   nix store prefetch-file --hash-type sha256 <url>     (or: nix-prefetch-url <url>)
  # An empty hash is refused with that hint, never fetched unchecked.
  wheels = {
    python = "python311";
    packages = [
      {
        pname = "torch";
        version = "2.9.1";
        url = "https://wheels.example.invalid/rocm-7.1.1/torch-2.9.1-cp311-cp311-linux_x86_64.whl";
        hash = "";
      }
      {
        pname = "vllm";
        version = "0.12.0+rocm711";
        url = "https://wheels.example.invalid/rocm-7.1.1/vllm-0.12.0%2Brocm711-cp311-cp311-linux_x86_64.whl";
        hash = "";
      }
    ];
  };

  image = {
    name = "vllm-rocm";
    tag = "latest";
  };

  # The port vLLM listens on inside the container and in the NixOS service.
  port = 8000;
}
