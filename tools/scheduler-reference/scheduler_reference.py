"""Reference timesteps/sigmas for the C# schedulers (BananaLab.Tests/Inference/SchedulerTests.cs).

Re-states the published diffusers formulas (DDIMScheduler, EulerDiscreteScheduler, LCMScheduler,
v0.30 set_timesteps / betas) with numpy only, so it runs without diffusers installed:

    /usr/bin/python3 tools/scheduler-reference/scheduler_reference.py
"""
import math
import numpy as np

N = 1000


def betas(schedule, beta_start=0.00085, beta_end=0.012):
    if schedule == "linear":
        return np.linspace(beta_start, beta_end, N, dtype=np.float32)
    if schedule == "scaled_linear":
        return np.linspace(beta_start ** 0.5, beta_end ** 0.5, N, dtype=np.float32) ** 2
    if schedule == "squaredcos_cap_v2":
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - f((i + 1) / N) / f(i / N), 0.999) for i in range(N)], dtype=np.float32)
    raise ValueError(schedule)


def alphas_cumprod(schedule, **kw):
    return np.cumprod(1.0 - betas(schedule, **kw), axis=0)  # float32, as torch.cumprod


def ddim_timesteps(steps, spacing, offset=0):
    if spacing == "linspace":
        return np.linspace(0, N - 1, steps).round()[::-1].astype(np.int64)
    if spacing == "leading":
        r = N // steps
        return (np.arange(0, steps) * r).round()[::-1].astype(np.int64) + offset
    r = N / steps
    return np.round(np.arange(N, 0, -r)).astype(np.int64) - 1


def euler(steps, spacing, schedule, offset=0):
    ac = alphas_cumprod(schedule)
    if spacing == "linspace":
        ts = np.linspace(0, N - 1, steps, dtype=np.float32)[::-1].copy()
    elif spacing == "leading":
        r = N // steps
        ts = (np.arange(0, steps) * r).round()[::-1].copy().astype(np.float32) + offset
    else:
        r = N / steps
        ts = np.arange(N, 0, -r).round().copy().astype(np.float32) - 1
    s = np.array(((1 - ac) / ac) ** 0.5)
    s = np.interp(ts, np.arange(0, len(s)), s)
    s = np.concatenate([s, [0.0]]).astype(np.float32)
    init = s.max() if spacing in ("linspace", "trailing") else (s.max() ** 2 + 1) ** 0.5
    return ts, s, init


def lcm_timesteps(steps, original=50, strength=1.0):
    k = N // original
    origin = np.asarray(list(range(1, int(original * strength) + 1))) * k - 1
    origin = origin[::-1].copy()
    idx = np.floor(np.linspace(0, len(origin), num=steps, endpoint=False)).astype(np.int64)
    return origin[idx]


def fmt(a, p=6):
    return ", ".join(f"{float(x):.{p}g}" for x in a)


if __name__ == "__main__":
    for sched in ("scaled_linear", "squaredcos_cap_v2", "linear"):
        ac = alphas_cumprod(sched)
        print(f"alphas_cumprod {sched} [0, 1, 499, 998, 999]:", fmt(ac[[0, 1, 499, 998, 999]], 8))
    for spacing, off in (("leading", 1), ("trailing", 0), ("linspace", 0)):
        print(f"ddim {spacing} offset={off} steps=10:", ", ".join(str(int(t)) for t in ddim_timesteps(10, spacing, off)))
    for spacing, off in (("leading", 1), ("trailing", 0), ("linspace", 0)):
        ts, s, init = euler(10, spacing, "scaled_linear", off)
        print(f"euler scaled_linear {spacing} offset={off} steps=10 timesteps:", fmt(ts, 8))
        print(f"   sigmas:", fmt(s, 8))
        print(f"   init_noise_sigma: {init:.8g}")
    ts, s, init = euler(4, "trailing", "squaredcos_cap_v2")
    print("euler squaredcos_cap_v2 trailing steps=4 timesteps:", fmt(ts, 8))
    print("   sigmas:", fmt(s, 8))
    print(f"   init_noise_sigma: {init:.8g}")
    print("lcm steps=4 original=50:", ", ".join(str(int(t)) for t in lcm_timesteps(4)))
    print("lcm steps=6 original=50:", ", ".join(str(int(t)) for t in lcm_timesteps(6)))
