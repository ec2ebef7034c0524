namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>
/// One denoising step is linear in the current latent, the model output and fresh noise for every
/// scheduler here: <c>next = Sample·x + Model·output + Noise·z</c>. Schedulers compute the three
/// coefficients per step once; the pipeline applies them element-wise without allocating.
/// </summary>
public readonly record struct StepCoefficients(double Sample, double Model, double Noise);

/// <summary>A diffusers scheduler after <c>set_timesteps(steps)</c>.</summary>
public abstract class DiffusionScheduler
{
    protected DiffusionScheduler(SchedulerConfig config, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "at least one step");
        Config = config;
        Steps = steps;
        AlphasCumprod = NoiseSchedule.AlphasCumprod(config);
    }

    public SchedulerConfig Config { get; }
    public int Steps { get; }
    public double[] AlphasCumprod { get; }

    /// <summary>The timestep given to the UNet at each step (fractional for sigma schedulers).</summary>
    public abstract IReadOnlyList<double> Timesteps { get; }

    /// <summary>Initial noise is N(0,1) times this.</summary>
    public virtual double InitNoiseSigma => 1.0;

    /// <summary>The UNet sees the latent times this (Euler's 1/sqrt(sigma²+1)).</summary>
    public virtual double ModelInputScale(int step) => 1.0;

    public abstract StepCoefficients Coefficients(int step);

    /// <summary>add_noise for image-to-image starting at <paramref name="step"/>: x = Signal·x0 + Noise·z.</summary>
    public virtual (double Signal, double Noise) NoiseLevel(int step)
    {
        var a = AlphasCumprod[(int)Math.Round(Timesteps[step])];
        return (Math.Sqrt(a), Math.Sqrt(1 - a));
    }

    /// <summary>x0 = A·x + B·output for the configured prediction type at cumulative alpha <paramref name="alpha"/>.</summary>
    protected (double A, double B) OriginalSample(double alpha) => Config.PredictionType switch
    {
        "epsilon" => (1 / Math.Sqrt(alpha), -Math.Sqrt(1 - alpha) / Math.Sqrt(alpha)),
        "v_prediction" => (Math.Sqrt(alpha), -Math.Sqrt(1 - alpha)),
        "sample" => (0, 1),
        _ => throw new NotSupportedException($"prediction_type '{Config.PredictionType}' is not supported."),
    };

    /// <summary>Discrete timesteps of DDIM-style schedulers for a spacing (diffusers set_timesteps).</summary>
    internal static int[] DiscreteTimesteps(SchedulerConfig config, int steps)
    {
        var n = config.NumTrainTimesteps;
        switch (config.TimestepSpacing)
        {
            case "linspace":
                return Enumerable.Range(0, steps)
                    .Select(i => (int)Math.Round(steps == 1 ? 0 : i * (n - 1.0) / (steps - 1), MidpointRounding.ToEven))
                    .Reverse().ToArray();
            case "leading":
                var ratio = n / steps;
                return Enumerable.Range(0, steps).Select(i => i * ratio + config.StepsOffset).Reverse().ToArray();
            case "trailing":
                var r = (double)n / steps;
                var list = new List<int>();
                for (double t = n; t > 0; t -= r) list.Add((int)Math.Round(t, MidpointRounding.ToEven) - 1);
                return list.Take(steps).ToArray();
            default:
                throw new NotSupportedException($"timestep_spacing '{config.TimestepSpacing}' is not supported (leading, trailing, linspace).");
        }
    }
}
