# vLLM on ROCm from one settings file: the Python environment (nixpkgs' packages or prebuilt wheels),
# the vllm-server wrapper, the OCI image and the dev shell.
#
# nixpkgs names used here, as read in nixpkgs' source. The copies read were stored versions of each
# file (the commit that last changed it is named), not the locked revision c59305ba itself, which
# could not be fetched; names stable across those versions were chosen:
#   python3Packages.vllm   python-modules/vllm/default.nix @ 00fa62a8 (vllm 0.19.0): args
#                          rocmSupport ? torch.rocmSupport, rocmPackages, gpuTargets ? [ ] (joined
#                          into PYTORCH_ROCM_ARCH); its dependency names, used for the wheels below
#   python3Packages.torch  python-modules/torch/source/default.nix @ 00d0ced3 and the vllm file's use
#                          of it: rocmSupport ? config.rocmSupport, rocmPackages, gpuTargets ? [ ]
#   rocmPackages.*         rocm-modules/default.nix @ 0e4c4301 (aliases dated 2026-03): clr, rocm-runtime,
#                          rocm-comgr, rocblas, hipblaslt, miopen, rccl, rocminfo, rocm-smi;
#                          rocm-modules/clr/default.nix @ 0592b001 (7.0.2): version, passthru.gpuTargets
#                          (gfx942, gfx1100, gfx1151 among them); aqlprofile @ 0467fa1b is 7.2.3
#   dockerTools.buildLayeredImage { name, tag, contents, config, created, extraCommands, maxLayers };
#   dockerTools.fakeNss (/etc/passwd and /etc/group with root and nobody: getpass.getuser() in
#   torch's inductor cache dir raises KeyError 'getpwuid(): uid not found: 0' without them);
#   rocmPackages.<gfx> and gfx9/gfx10/gfx11/gfx12: scopes whose clr is built for those targets only
#   (rocm-modules/default.nix @ 77dc9f4b, scopeForArches; see the README's GPU targets);
#   python3Packages.vllm's bin/vllm, wrapped by nixpkgs with HIP_DEVICE_LIB_PATH and ROCm's PATH
#   (as issue #19 read python-modules/vllm/default.nix; not re-read for this change);
#   writeShellApplication { name, text, runtimeInputs, runtimeEnv, passthru }; buildPythonPackage
#   { format = "wheel", dependencies, dontCheckRuntimeDeps }; autoPatchelfHook
#   (autoPatchelfIgnoreMissingDeps, addAutoPatchelfSearchPath)
{
  pkgs,
  settings,
  # The flake's own commit, for the image's OCI labels: { revision, created } (flake.nix), or { }.
  commit ? { },
}:

let
  inherit (pkgs) lib;
  rocm = pkgs.rocmPackages;
  optionalLabel = name: value: if value == null || value == "" then { } else { ${name} = value; };

  # The declared targets, refused early when empty or when ROCm's libraries (rocBLAS, hipBLASLt,
  # MIOpen) ship no kernels for one of them: a typo would otherwise cost an hours-long build.
  gpuTargets =
    let
      unknown = lib.subtractLists rocm.clr.gpuTargets settings.gpuTargets;
    in
    if settings.gpuTargets == [ ] then
      throw "nix/settings.nix: gpuTargets is empty; list at least one, e.g. \"gfx1151\""
    else if unknown != [ ] then
      throw "nix/settings.nix: gpuTargets ${toString unknown} are not ROCm ${rocm.clr.version} targets (rocmPackages.clr.gpuTargets: ${toString rocm.clr.gpuTargets})"
    else
      settings.gpuTargets;

  # Libraries vLLM and PyTorch load at run time (dlopen), and what ROCM_PATH points at.
  rocmLibraries = [
    rocm.clr
    rocm.rocm-runtime
    rocm.rocm-comgr
    rocm.rocblas
    rocm.hipblaslt
    rocm.miopen
    rocm.rccl
    rocm.rocm-smi
  ];

  # --- source = "nixpkgs": one torch for the whole Python set, built for gpuTargets --------------
  # (flake.nix imports nixpkgs with config.rocmSupport = true, so torch, vllm and their GPU
  # dependencies all take their ROCm variant; `self` keeps the overridden set consistent.)
  pythonFromNixpkgs = pkgs.python3.override {
    self = pythonFromNixpkgs;
    packageOverrides = _final: prev: {
      torch = prev.torch.override { inherit gpuTargets; };
      vllm = prev.vllm.override { inherit gpuTargets; };
    };
  };

  # --- source = "wheels": the team's wheels, patched for the store --------------------------------
  wheelPythonName = settings.wheels.python;
  wheelBasePython =
    pkgs.${wheelPythonName}
      or (throw "nix/settings.nix: wheels.python = \"${wheelPythonName}\" is not an interpreter in this nixpkgs (python312, python313, ...)");

  fetchWheel =
    w:
    if (w.hash or "") == "" then
      throw "nix/settings.nix: wheel ${w.pname} has no hash; run `nix store prefetch-file --hash-type sha256 '${w.url}'` and set hash to the sha256-... it prints"
    else
      pkgs.fetchurl {
        inherit (w) url hash;
        # fetchurl names the file after the URL's last part; pip needs the wheel's own name.
        name = lib.last (lib.splitString "/" (lib.replaceStrings [ "%2B" ] [ "+" ] w.url));
      };

  # vLLM's runtime Python dependencies taken from nixpkgs (names from vllm/default.nix's
  # dependencies); the torch-built ones (xformers, torchvision, torchaudio) are left out: add their
  # wheels to settings.wheels.packages when your models need them.
  vllmDependencies =
    ps: with ps; [
      aioprometheus
      blake3
      cachetools
      cbor2
      compressed-tensors
      depyf
      einops
      fastapi
      gguf
      importlib-metadata
      llguidance
      lm-format-enforcer
      mistral-common
      msgspec
      numba
      numpy
      openai
      openai-harmony
      opencv-python-headless
      outlines
      partial-json-parser
      prometheus-fastapi-instrumentator
      psutil
      py-cpuinfo
      pyarrow
      pybase64
      pydantic
      python-json-logger
      python-multipart
      pyzmq
      sentencepiece
      setproctitle
      tiktoken
      tokenizers
      transformers
      uvicorn
      xgrammar
    ]
    ++ uvicorn.optional-dependencies.standard;

  torchDependencies =
    ps: with ps; [
      filelock
      fsspec
      jinja2
      networkx
      sympy
      typing-extensions
    ];

  buildWheel =
    ps: w:
    ps.buildPythonPackage {
      inherit (w) pname version;
      format = "wheel";
      src = fetchWheel w;
      nativeBuildInputs = [ pkgs.autoPatchelfHook ];
      # The ROCm torch wheel carries its own copies of most ROCm libraries (torch/lib); these
      # resolve the rest, and libstdc++/numa/zlib/libdrm for every wheel.
      buildInputs = rocmLibraries ++ [
        pkgs.stdenv.cc.cc.lib
        pkgs.numactl
        pkgs.zlib
        pkgs.libdrm
        pkgs.elfutils
      ];
      # Wheels built against torch (vllm, torchvision, ...) link its libraries in torch/lib.
      preFixup = lib.optionalString (w.pname != "torch") ''
        addAutoPatchelfSearchPath ${ps.torch}/${ps.python.sitePackages}/torch/lib
      '';
      # A library auto-patchelf cannot find fails the build naming it; list it in the wheel's
      # ignoreMissing only when the host provides it at run time.
      autoPatchelfIgnoreMissingDeps = w.ignoreMissing or [ ];
      # The vLLM ROCm wheel pins its own torch, triton and amdsmi builds (vllm
      # tools/vllm-rocm/pin_rocm_dependencies.py): those come from the same list, never from nixpkgs.
      dependencies =
        if w.pname == "torch" then
          torchDependencies ps
        else if w.pname == "vllm" then
          [ ps.torch ] ++ map (n: ps.${n}) (lib.intersectLists wheelNames [ "triton" "amdsmi" ]) ++ vllmDependencies ps
        else if lib.elem w.pname [ "triton" "amdsmi" ] then
          [ ]
        else
          [ ps.torch ];
      # Wheels pin exact versions (torch==2.9.1+rocm7.1.1) that nixpkgs' builds do not carry.
      dontCheckRuntimeDeps = true;
      doCheck = false;
    };

  wheelNames = map (w: w.pname) settings.wheels.packages;

  pythonFromWheels = wheelBasePython.override {
    self = pythonFromWheels;
    packageOverrides =
      final: _prev: lib.listToAttrs (map (w: lib.nameValuePair w.pname (buildWheel final w)) settings.wheels.packages);
  };

  python =
    if settings.source == "nixpkgs" then
      pythonFromNixpkgs
    else if settings.source == "wheels" then
      pythonFromWheels
    else
      throw "nix/settings.nix: source = \"${settings.source}\"; allowed: \"nixpkgs\" or \"wheels\"";

  pythonEnv = python.withPackages (ps: [ ps.vllm ]);

  # The same script the Docker image runs (bin/vllm-server), with the store's ROCm and Python.
  vllm-server = pkgs.writeShellApplication {
    name = "vllm-server";
    runtimeInputs = [ pkgs.coreutils ];
    runtimeEnv = {
      # nixpkgs' wrapped bin/vllm (HIP_DEVICE_LIB_PATH, ROCm's PATH); the script runs `vllm serve`.
      VLLM_BIN = "${pythonEnv}/bin/vllm";
      ROCM_PATH = "${rocm.clr}";
      ROCM_HOME = "${rocm.clr}";
      VLLM_ROCM_VERSION = rocm.clr.version;
      VLLM_ROCM_LIBRARY_PATH = lib.makeLibraryPath rocmLibraries;
      VLLM_GPU_TARGETS = lib.concatStringsSep " " gpuTargets;
      PYTORCH_ROCM_ARCH = lib.concatStringsSep ";" gpuTargets;
    };
    text = builtins.readFile ../bin/vllm-server;
    passthru = { inherit pythonEnv gpuTargets; };
  };

  # Reproducible: the image's creation time is fixed (dockerTools also writes every layer's files
  # with a fixed mtime), so one lock file gives one image digest.
  vllm-container = pkgs.dockerTools.buildLayeredImage {
    inherit (settings.image) name tag;
    created = "1970-01-01T00:00:01Z";
    # pythonEnv puts python3 on PATH, for compose's health check.
    # fakeNss: /etc/passwd and /etc/group, so `import vllm` can name the user it runs as.
    contents = [
      pkgs.dockerTools.fakeNss
      vllm-server
      pythonEnv
      pkgs.bashInteractive
      pkgs.coreutils
      pkgs.cacert
    ];
    # vLLM and Hugging Face write caches; /tmp and the model cache must exist and be writable.
    extraCommands = ''
      mkdir -p tmp models
      chmod 1777 tmp models
    '';
    maxLayers = 100;
    config = {
      Entrypoint = [ "${vllm-server}/bin/vllm-server" ];
      Env = [
        "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"
        "HF_HOME=/models"
        "HOME=/tmp"
      ];
      ExposedPorts."${toString settings.port}/tcp" = { };
      Volumes."/models" = { };
      # OCI labels as docker/metadata-action writes them (and build-docker's oci-labels). The
      # revision and created come from the flake's own commit (flake.nix passes `commit`), so one
      # commit gives one digest; a dirty tree or a flake without git info leaves them out.
      Labels =
        {
          "org.opencontainers.image.title" = settings.image.name;
          "org.opencontainers.image.description" = "vLLM OpenAI server for ROCm (${lib.concatStringsSep ", " gpuTargets}), ${settings.source}";
        }
        // optionalLabel "org.opencontainers.image.source" (settings.image.source or null)
        // optionalLabel "org.opencontainers.image.licenses" (settings.image.licenses or null)
        // optionalLabel "org.opencontainers.image.revision" (commit.revision or null)
        // optionalLabel "org.opencontainers.image.created" (commit.created or null);
    };
  };

  devShell = pkgs.mkShell {
    packages = [
      vllm-server
      pythonEnv
      rocm.rocminfo
      rocm.rocm-smi
    ];
    ROCM_PATH = "${rocm.clr}";
    ROCM_HOME = "${rocm.clr}";
    PYTORCH_ROCM_ARCH = lib.concatStringsSep ";" gpuTargets;
    shellHook = ''
      echo "vLLM dev shell: ROCm ${rocm.clr.version}, targets ${lib.concatStringsSep " " gpuTargets}, source ${settings.source}."
      echo "Start the server with: vllm-server --model <hf-model> --port ${toString settings.port}"
    '';
  };
in
{
  inherit
    vllm-server
    vllm-container
    devShell
    pythonEnv
    ;
}
