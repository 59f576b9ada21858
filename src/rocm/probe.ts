// The in-image GPU probe: a short Python run inside the image that checks PyTorch sees the GPU,
// the arch is the expected one, and a small matmul on the GPU agrees with the CPU. Works with ROCm
// and CUDA builds of PyTorch (both answer through torch.cuda); prints one JSON line, never a traceback.

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
