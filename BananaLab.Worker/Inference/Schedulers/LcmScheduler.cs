namespace BananaLab.Worker.Inference.Schedulers;

/// <summary>diffusers LCMScheduler: consistency-model boundary conditions, re-noised between steps.</summary>
public sealed class LcmScheduler : DiffusionScheduler
{
    private const double SigmaData = 0.5;
    private readonly int[] _timesteps;

    public LcmScheduler(SchedulerConfig config, int steps) : base(config, steps)
    {
        var original = Math.Max(1, config.OriginalInferenceSteps);
        var k = config.NumTrainTimesteps / original;
        var origin = Enumerable.Range(1, original).Select(i => i * k - 1).Reverse().ToArray();
        _timesteps = Enumerable.Range(0, steps)
            .Select(i => origin[(int)Math.Floor(i * (double)origin.Length / steps)])
            .ToArray();
        Timesteps = _timesteps.Select(t => (double)t).ToArray();
    }

    public override IReadOnlyList<double> Timesteps { get; }

    public override StepCoefficients Coefficients(int step)
    {
        var t = _timesteps[step];
        var previous = step + 1 < _timesteps.Length ? _timesteps[step + 1] : t;
        var alpha = AlphasCumprod[t];
        var alphaPrevious = previous >= 0 ? AlphasCumprod[previous] : Config.SetAlphaToOne ? 1.0 : AlphasCumprod[0];
        var scaled = t * Config.TimestepScaling;
        var cSkip = SigmaData * SigmaData / (scaled * scaled + SigmaData * SigmaData);
        var cOut = scaled / Math.Sqrt(scaled * scaled + SigmaData * SigmaData);
        var (x0A, x0B) = OriginalSample(alpha);
        // denoised = c_out·x0 + c_skip·x; the last step returns it, the others re-noise to the next timestep.
        var denoisedA = cOut * x0A + cSkip;
        var denoisedB = cOut * x0B;
        if (step == _timesteps.Length - 1) return new StepCoefficients(denoisedA, denoisedB, 0);
        return new StepCoefficients(Math.Sqrt(alphaPrevious) * denoisedA, Math.Sqrt(alphaPrevious) * denoisedB, Math.Sqrt(1 - alphaPrevious));
    }
}
