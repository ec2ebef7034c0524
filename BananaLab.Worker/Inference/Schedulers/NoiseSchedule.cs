namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>
/// Betas and cumulative alphas as diffusers computes them (float32, like its torch tensors), so
/// timesteps, sigmas and step coefficients agree with the Python side to float precision.
/// </summary>
public static class NoiseSchedule
{
    public static double[] AlphasCumprod(SchedulerConfig config)
    {
        var betas = Betas(config);
        var cumprod = new double[betas.Length];
        var product = 1f;
        for (var i = 0; i < betas.Length; i++)
        {
            product *= 1f - betas[i];
            cumprod[i] = product;
        }
        return cumprod;
    }

    public static float[] Betas(SchedulerConfig config)
    {
        var n = config.NumTrainTimesteps;
        if (config.TrainedBetas is { Length: > 0 } trained) return trained.Select(b => (float)b).ToArray();
        switch (config.BetaSchedule)
        {
            case "linear":
                return Linspace(config.BetaStart, config.BetaEnd, n);
            case "scaled_linear":
                return Linspace(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), n).Select(b => b * b).ToArray();
            case "squaredcos_cap_v2":
                static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
                return Enumerable.Range(0, n)
                    .Select(i => (float)Math.Min(1 - AlphaBar((i + 1.0) / n) / AlphaBar((double)i / n), 0.999))
                    .ToArray();
            default:
                throw new NotSupportedException($"beta_schedule '{config.BetaSchedule}' is not supported (linear, scaled_linear, squaredcos_cap_v2).");
        }
    }

    /// <summary>numpy.linspace(start, end, n, dtype=float32): computed in double, stored as float.</summary>
    private static float[] Linspace(double start, double end, int n)
    {
        var step = n > 1 ? (end - start) / (n - 1) : 0;
        return Enumerable.Range(0, n).Select(i => (float)(i == n - 1 ? end : start + i * step)).ToArray();
    }
}
