// The in-image GPU probe: a short Python run inside the image that checks PyTorch sees the GPU,
// the arch is the expected one, the image carries kernels for it, vLLM imports and finds its ROCm
// platform, and a small matmul on the GPU agrees with the CPU. Works with ROCm and CUDA builds of
// PyTorch (both answer through torch.cuda); prints one JSON line, never a traceback.
//
// What it copies from upstream, so that it fails where the server would:
// - torch.cuda.get_arch_list() is the build's arch flags (PYTORCH_ROCM_ARCH at torch's build;
//   pytorch torch/cuda/__init__.py get_arch_list, [] when no GPU is available). A GPU whose gfx
//   target is not in it gets hipErrorNoBinaryForGpu at the first kernel.
// - `import vllm` reaches torch's inductor cache dir, which calls getpass.getuser()
//   (pytorch torch/_inductor/runtime/cache_dir_utils.py); with no passwd entry for the uid that
//   raises KeyError 'getpwuid(): uid not found: 0'.
// - vLLM picks ROCm only when `import amdsmi; amdsmi.amdsmi_init()` works and lists a processor
//   (vllm vllm/platforms/__init__.py rocm_platform_plugin, errors swallowed at debug level); else
//   the server later stops with "RuntimeError: Failed to infer device type".

export const PROBE_SCRIPT = String.raw`
import json, sys
expected = sys.argv[1] if len(sys.argv) > 1 else ""
info = {}
def done(ok, verdict, detail, **extra):
    info.update(extra)
    print(json.dumps(dict(ok=ok, verdict=verdict, detail=detail, **info)), flush=True)
    sys.exit(0 if ok else 1)
try:
    import torch
except Exception as e:
    done(False, "no-torch", "PyTorch cannot be imported: %s" % e)
hip = getattr(torch.version, "hip", None)
cuda = getattr(torch.version, "cuda", None)
info.update(torch=torch.__version__, hip=hip, cuda=cuda, backend="rocm" if hip else ("cuda" if cuda else "cpu"))
if not hip and not cuda:
    done(False, "cpu-only-torch", "this PyTorch is a CPU-only build (neither torch.version.hip nor torch.version.cuda)")
try:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
except Exception as e:
    done(False, "no-gpu", "torch.cuda failed: %s" % e)
if count == 0:
    done(False, "no-gpu", "PyTorch sees no GPU (devices not passed in, missing render/video group, or *_VISIBLE_DEVICES hide them)")
props = torch.cuda.get_device_properties(0)
arch = (getattr(props, "gcnArchName", "") or "").split(":")[0] if hip else "sm_%d%d" % (props.major, props.minor)
info.update(devices=count, name=props.name, arch=arch, memory_bytes=int(props.total_memory))
if expected and arch != expected:
    done(False, "arch-mismatch", "PyTorch reports %s, expected %s" % (arch, expected))
target = expected or arch
# gfx90a:xnack- and gfx90a name the same kernels' target.
try:
    built = [a.split(":")[0] for a in torch.cuda.get_arch_list()]
except Exception:
    built = []
info.update(arch_list=built)
if hip and target and built and target not in built:
    done(False, "no-kernel-for-gfx",
         "the image has no kernels for %s: its PyTorch was built for %s (torch.cuda.get_arch_list()), so the first GPU kernel would fail with hipErrorNoBinaryForGpu. "
         "The kernels come from the torch and vLLM builds (PYTORCH_ROCM_ARCH when they were compiled, e.g. nixpkgs' gpuTargets or the wheel's build), not from any run-time setting"
         % (target, ", ".join(built)))
try:
    import vllm
    info.update(vllm=getattr(vllm, "__version__", None))
except Exception as e:
    msg = "%s: %s" % (type(e).__name__, e)
    if isinstance(e, KeyError) and "getpwuid" in str(e):
        hint = "the image has no /etc/passwd entry for the user it runs as (getpass.getuser() in torch's inductor cache dir): add one (Nix: dockerTools.fakeNss in the image's contents) or set USER and LOGNAME"
    elif isinstance(e, ImportError) and getattr(e, "name", None) == "vllm":
        hint = "vLLM is not installed in this image's Python"
    else:
        hint = "vLLM cannot be imported"
    done(False, "vllm-import-error", "import vllm failed with %s; %s" % (msg, hint))
if hip:
    try:
        import amdsmi
        amdsmi.amdsmi_init()
        try:
            handles = len(amdsmi.amdsmi_get_processor_handles())
        finally:
            amdsmi.amdsmi_shut_down()
    except Exception as e:
        done(False, "no-amdsmi",
             "vLLM finds ROCm through amdsmi, which failed (%s: %s), so the server would stop with 'Failed to infer device type'; install ROCm's amdsmi into the image's Python (pip install /opt/rocm/share/amd_smi, or the amdsmi wheel matching the image's ROCm)"
             % (type(e).__name__, e))
    if handles == 0:
        done(False, "no-amdsmi", "amdsmi lists no GPU although PyTorch sees %d, so vLLM would stop with 'Failed to infer device type'; pass /dev/dri and /dev/kfd with their groups" % count)
try:
    torch.manual_seed(0)
    a = torch.randn(256, 256)
    b = torch.randn(256, 256)
    want = a @ b
    got = (a.to("cuda") @ b.to("cuda")).cpu()
    torch.cuda.synchronize()
    err = float((got - want).abs().max())
except Exception as e:
    done(False, "gpu-error", "a matmul on the GPU failed: %s" % str(e).strip().splitlines()[0])
info.update(max_abs_error=err)
if not (err <= 1e-2):
    done(False, "wrong-result", "the GPU matmul differs from the CPU's by %g" % err)
done(True, "ok", "%s %s: matmul agrees with the CPU (max abs error %g)" % (arch, props.name, err))
`;

export interface ProbeVerdict {
  ok: boolean;
  verdict: string;
  detail: string;
  arch?: string;
  name?: string;
  backend?: string;
  torch?: string;
  [key: string]: unknown;
}

/** The probe's verdict: its last JSON line; anything else (python missing, a crash) is verdict 'no-verdict'. */
export function parseProbeOutput(stdout: string, stderr: string, exitCode: number | null): ProbeVerdict {
  const line = stdout.trim().split('\n').reverse().find((l) => l.trimStart().startsWith('{'));
  if (line) {
    try {
      const parsed = JSON.parse(line) as ProbeVerdict;
      if (typeof parsed.ok === 'boolean' && typeof parsed.verdict === 'string') return parsed;
    } catch {
      // fall through
    }
  }
  const tail = (stderr || stdout).trim().split('\n').slice(-3).join(' | ');
  return { ok: false, verdict: 'no-verdict', detail: `the probe printed no verdict (exit ${exitCode}): ${tail.slice(0, 400)}` };
}
