# NixOS module: vLLM's OpenAI server as a systemd service (`systemctl start vllm`).
# flake.nix passes its own packages in, so `services.vllm.package` defaults to this flake's wrapper.
{ defaultPackage }:
{
  config,
  lib,
  ...
}:
let
  cfg = config.services.vllm;
in
{
  options.services.vllm = {
    enable = lib.mkEnableOption "vLLM's OpenAI-compatible server on an AMD ROCm GPU";
    package = lib.mkOption {
      type = lib.types.package;
      default = defaultPackage;
      description = "The vllm-server wrapper (this flake's packages.x86_64-linux.vllm-server).";
    };
    model = lib.mkOption {
      type = lib.types.str;
      example = "Qwen/Qwen2.5-7B-Instruct";
      description = "Hugging Face model id or local path, passed as --model.";
    };
    host = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1";
      description = "Address to listen on (0.0.0.0 for every interface).";
    };
    port = lib.mkOption {
      type = lib.types.port;
      default = 8000;
      description = "Port of the OpenAI API and of /health.";
    };
    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [
        "--max-model-len"
        "8192"
      ];
      description = "More vLLM arguments.";
    };
    environment = lib.mkOption {
      type = lib.types.attrsOf lib.types.str;
      default = { };
      example = {
        HIP_VISIBLE_DEVICES = "0";
      };
      description = "Environment of the service, e.g. HIP_VISIBLE_DEVICES to choose GPUs.";
    };
    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Open the port in the firewall (needs apiKeyFile).";
    };
    # Secrets are file names given as strings, read when the service starts: a Nix path or a value
    # in `environment` would be copied into the world-readable /nix/store.
    apiKeyFile = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "/.*");
      default = null;
      example = "/run/secrets/vllm-api-key";
      description = ''
        File holding the API key clients must send as a Bearer token, outside the Nix store (e.g.
        from agenix or sops-nix), as a string. systemd hands it to the service as a credential;
        required unless the server listens on loopback only.
      '';
    };
    environmentFile = lib.mkOption {
      type = lib.types.listOf (lib.types.strMatching "/.*");
      default = [ ];
      example = [ "/run/secrets/vllm.env" ];
      description = "Files of KEY=value lines for secrets such as HF_TOKEN (systemd EnvironmentFile=), outside the Nix store.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions =
      let
        inStore = file: lib.hasPrefix builtins.storeDir file;
        loopback = builtins.elem cfg.host [
          "127.0.0.1"
          "::1"
          "localhost"
        ];
      in
      [
        {
          assertion = cfg.apiKeyFile != null || (loopback && !cfg.openFirewall);
          message = "services.vllm: listening on ${cfg.host}${lib.optionalString cfg.openFirewall " with the firewall open"} needs apiKeyFile: anyone who reaches the port would use the GPU.";
        }
        {
          assertion = !(lib.any inStore (lib.optional (cfg.apiKeyFile != null) cfg.apiKeyFile ++ cfg.environmentFile));
          message = "services.vllm: apiKeyFile and environmentFile must be outside ${builtins.storeDir}, which every user can read.";
        }
        {
          assertion = !(lib.any (name: builtins.elem name [ "VLLM_API_KEY" "HF_TOKEN" "HUGGING_FACE_HUB_TOKEN" ]) (builtins.attrNames cfg.environment));
          message = "services.vllm: secrets in `environment` land in the world-readable Nix store; use apiKeyFile or environmentFile.";
        }
      ];
    systemd.services.vllm = {
      description = "vLLM OpenAI-compatible server (ROCm)";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      environment = {
        HOME = "/var/lib/vllm";
        HF_HOME = "/var/cache/vllm/huggingface";
      }
      // lib.optionalAttrs (cfg.apiKeyFile != null) {
        # %d: the service's credentials directory (systemd.unit(5) specifiers); bin/vllm-server reads it.
        VLLM_API_KEY_FILE = "%d/api-key";
      }
      // cfg.environment;
      serviceConfig = {
        ExecStart = "${lib.getExe' cfg.package "vllm-server"} ${
          lib.escapeShellArgs (
            [
              "--model"
              cfg.model
              "--host"
              cfg.host
              "--port"
              (toString cfg.port)
            ]
            ++ cfg.extraArgs
          )
        }";
        # Read by systemd as root when the service starts, readable by the service alone.
        LoadCredential = lib.optional (cfg.apiKeyFile != null) "api-key:${cfg.apiKeyFile}";
        EnvironmentFile = cfg.environmentFile;
        DynamicUser = true;
        StateDirectory = "vllm";
        CacheDirectory = "vllm";
        # /dev/kfd and /dev/dri/renderD* belong to these groups.
        SupplementaryGroups = [
          "video"
          "render"
        ];
        Restart = "on-failure";
        # Downloading and loading a model takes minutes.
        TimeoutStartSec = "30min";
      };
    };
    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ cfg.port ];
  };
}
