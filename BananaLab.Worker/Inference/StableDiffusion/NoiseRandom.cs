namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>
/// Gaussian noise from xoshiro256** (seeded through SplitMix64) with the Box–Muller transform.
/// Our own generator, not System.Random, so the same seed gives the same image on every .NET version.
/// </summary>
public sealed class NoiseRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    public NoiseRandom(long seed)
    {
        var state = unchecked((ulong)seed);
        _s0 = SplitMix64(ref state);
        _s1 = SplitMix64(ref state);
        _s2 = SplitMix64(ref state);
        _s3 = SplitMix64(ref state);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in (0, 1]: never 0, so the logarithm below is finite.</summary>
    public double NextUnit() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    public double NextGaussian()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }
        var radius = Math.Sqrt(-2.0 * Math.Log(NextUnit()));
        var angle = 2.0 * Math.PI * NextUnit();
        _spare = radius * Math.Sin(angle);
        return radius * Math.Cos(angle);
    }

    public void FillGaussian(Span<float> target)
    {
        for (var i = 0; i < target.Length; i++) target[i] = (float)NextGaussian();
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
