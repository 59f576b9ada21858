{
  description = "vllm-rocm-action example: the Dockerfile's image, built with Nix (no nixpkgs)";

  # A real flake builds vLLM with nixpkgs' dockerTools; this one is a plain derivation run by the
  # host's /bin/sh, tar, gzip and coreutils (sandbox = false), so nothing is downloaded. `vllm` is
  # fake-vllm.c compiled static, beside this file (in a Git repository: committed or `git add`ed).
  outputs = { self }:
    let
      system = "x86_64-linux";
      vllm-container = derivation {
        name = "vllm-container-oci.tar";
        inherit system;
        builder = "/bin/sh";
        args = [ "-e" ./oci-image.sh ];
        server = ./vllm;
        title = "vllm-rocm example";
      };
    in
    {
      packages.${system} = {
        inherit vllm-container;
        default = vllm-container;
      };
    };
}
