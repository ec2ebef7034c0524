namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>diffusers EulerDiscreteScheduler (s_churn = 0, linear sigma interpolation, final sigma 0).</summary>
public class EulerDiscreteScheduler : DiffusionScheduler
{
    public EulerDiscreteScheduler(SchedulerConfig config, int steps) : base(config, steps)
    {
        var n = config.NumTrainTimesteps;
        var timesteps = config.TimestepSpacing switch
        {
            "linspace" => Enumerable.Range(0, steps).Select(i => (double)(float)(steps == 1 ? 0 : i * (n - 1.0) / (steps - 1))).Reverse().ToArray(),
            _ => DiscreteTimesteps(config, steps).Select(t => (double)t).ToArray(),
        };
        var fullSigmas = AlphasCumprod.Select(a => Math.Sqrt((1 - a) / a)).ToArray();
        Sigmas = timesteps.Select(t => Interpolate(fullSigmas, t)).Append(0.0).ToArray();
        Timesteps = timesteps;
    }

    public override IReadOnlyList<double> Timesteps { get; }

    /// <summary>One sigma per step plus the final 0.</summary>
    public double[] Sigmas { get; }

    public override double InitNoiseSigma
    {
        get
        {
            var max = Sigmas.Max();
            return Config.TimestepSpacing is "linspace" or "trailing" ? max : Math.Sqrt(max * max + 1);
        }
    }

    public override double ModelInputScale(int step) => 1 / Math.Sqrt(Sigmas[step] * Sigmas[step] + 1);

    public override (double Signal, double Noise) NoiseLevel(int step) => (1, Sigmas[step]);

    public override StepCoefficients Coefficients(int step)
    {
        var sigma = Sigmas[step];
        var (a, b) = DenoisedCoefficients(sigma);
        var (target, noise) = Target(step);
        // next = x + (x - x0)/sigma · (target - sigma)
        var dt = (target - sigma) / sigma;
        return new StepCoefficients(1 + dt - a * dt, -b * dt, noise);
    }

    /// <summary>The sigma the step moves to and the noise it adds (ancestral sampling overrides).</summary>
    protected virtual (double Target, double Noise) Target(int step) => (Sigmas[step + 1], 0);

    /// <summary>x0 = A·x + B·output in sigma space.</summary>
    private (double A, double B) DenoisedCoefficients(double sigma) => Config.PredictionType switch
    {
        "epsilon" => (1, -sigma),
        "v_prediction" => (1 / (sigma * sigma + 1), -sigma / Math.Sqrt(sigma * sigma + 1)),
        "sample" => (0, 1),
        _ => throw new NotSupportedException($"prediction_type '{Config.PredictionType}' is not supported."),
    };

    /// <summary>numpy.interp over integer positions.</summary>
    private static double Interpolate(double[] values, double position)
    {
        if (position <= 0) return values[0];
        if (position >= values.Length - 1) return values[^1];
        var low = (int)Math.Floor(position);
        var fraction = position - low;
        return values[low] + (values[low + 1] - values[low]) * fraction;
    }
}

/// <summary>diffusers EulerAncestralDiscreteScheduler: Euler to sigma_down, then fresh noise of sigma_up.</summary>
public sealed class EulerAncestralScheduler(SchedulerConfig config, int steps) : EulerDiscreteScheduler(config, steps)
{
    protected override (double Target, double Noise) Target(int step)
    {
        var from = Sigmas[step];
        var to = Sigmas[step + 1];
        var up = Math.Sqrt(to * to * (from * from - to * to) / (from * from));
        var down = Math.Sqrt(to * to - up * up);
        return (down, up);
    }
}
