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
      description = "Open the port in the firewall.";
    };
  };

  config = lib.mkIf cfg.enable {
    systemd.services.vllm = {
      description = "vLLM OpenAI-compatible server (ROCm)";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      environment = {
        HOME = "/var/lib/vllm";
        HF_HOME = "/var/cache/vllm/huggingface";
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
