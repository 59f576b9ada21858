{
  description = "vLLM on AMD ROCm GPUs: a dev shell, a vllm-server wrapper, an OCI image and a NixOS service";

  # Pinned in flake.lock (nixos-unstable of 2026-10-01); `nix flake update` moves it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      # ROCm is x86_64-linux only in nixpkgs.
      system = "x86_64-linux";
      settings = import ./nix/settings.nix;
      # config.rocmSupport: every package with a ROCm variant (torch, vllm, triton, ...) takes it.
      pkgs = import nixpkgs {
        inherit system;
        config.rocmSupport = true;
      };
      # The commit the image is built from, for its OCI labels (revision, created): a clean git tree
      # has self.rev and self.lastModifiedDate (YYYYMMDDHHMMSS, the commit's time); a dirty one has neither.
      commit =
        let
          d = self.lastModifiedDate or null;
          at = start: len: builtins.substring start len d;
        in
        if self ? rev && d != null then
          {
            revision = self.rev;
            created = "${at 0 4}-${at 4 2}-${at 6 2}T${at 8 2}:${at 10 2}:${at 12 2}Z";
          }
        else
          { };
      vllm = import ./nix/vllm.nix { inherit pkgs settings commit; };
    in
    {
      # The names below are what the README, the pipeline (build-nix's default attribute) and the
      # templates test rely on; they are plain attribute names, so reading them needs no nixpkgs.
      packages.${system} = {
        vllm-server = vllm.vllm-server;
        vllm-container = vllm.vllm-container;
        default = vllm.vllm-server;
      };

      devShells.${system} = {
        vllm = vllm.devShell;
        default = vllm.devShell;
      };

      nixosModules = {
        vllm = import ./nix/module.nix { defaultPackage = self.packages.${system}.vllm-server; };
        default = self.nixosModules.vllm;
      };
    };
}
