namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>diffusers DDIMScheduler with eta = 0 (deterministic).</summary>
public sealed class DdimScheduler : DiffusionScheduler
{
    private readonly int[] _timesteps;

    public DdimScheduler(SchedulerConfig config, int steps) : base(config, steps)
    {
        _timesteps = DiscreteTimesteps(config, steps);
        Timesteps = _timesteps.Select(t => (double)t).ToArray();
    }

    public override IReadOnlyList<double> Timesteps { get; }

    public override StepCoefficients Coefficients(int step)
    {
        var t = _timesteps[step];
        var previous = t - Config.NumTrainTimesteps / Steps;
        var alpha = AlphasCumprod[t];
        var alphaPrevious = previous >= 0 ? AlphasCumprod[previous] : Config.SetAlphaToOne ? 1.0 : AlphasCumprod[0];
        var (x0A, x0B) = OriginalSample(alpha);
        // eps = (x - sqrt(a)·x0) / sqrt(1-a), written with x0's coefficients.
        var s1a = Math.Sqrt(1 - alpha);
        var epsA = (1 - Math.Sqrt(alpha) * x0A) / s1a;
        var epsB = -Math.Sqrt(alpha) * x0B / s1a;
        if (Config.PredictionType == "epsilon") (epsA, epsB) = (0, 1);
        var sap = Math.Sqrt(alphaPrevious);
        var s1ap = Math.Sqrt(1 - alphaPrevious);
        return new StepCoefficients(sap * x0A + s1ap * epsA, sap * x0B + s1ap * epsB, 0);
    }
}
