using System.Collections.Concurrent;
using BananaLab.Core.Tasks;

namespace BananaLab.Core.Generation;

/// <summary>
/// What decides a run's cost: <see cref="DenoiseSteps"/> steps for each of <see cref="ImageCount"/> images
/// at the model's native size, then finishing (decode, enlarge, encode) of images of
/// <see cref="Width"/>×<see cref="Height"/> pixels.
/// </summary>
public sealed record RunShape(int DenoiseSteps, int ImageCount, int Width, int Height)
{
    /// <summary>Pixels written in all, in millions.</summary>
    public double OutputMegapixels => (double)Width * Height * ImageCount / 1_000_000;

    public SizeTier Tier => SizeTiers.Covering(Width, Height);

    /// <summary>
    /// The shape of a task as submitted; image-to-image skips the first <c>(1 − strength)</c> of the steps,
    /// as the pipeline does (default strength 0.75).
    /// </summary>
    public static RunShape Of(GenerationTask task) => Of(task.Steps, task.ImageCount, task.Width, task.Height,
        task.ReferenceImagePath is not null, task.ReferenceStrength);

    public static RunShape Of(TaskSnapshot task) => Of(task.Steps, task.ImageCount, task.Width, task.Height,
        task.ReferenceImagePath is not null, task.ReferenceStrength);

    public static RunShape Of(int steps, int imageCount, int width, int height, bool hasReference, double? referenceStrength)
    {
        steps = Math.Max(1, steps);
        var run = hasReference ? Math.Min((int)(steps * Math.Clamp(referenceStrength ?? 0.75, 0, 1)), steps) : steps;
        return new RunShape(run, Math.Max(1, imageCount), width, height);
    }
}

/// <summary>
/// What one successful run took, in seconds, as the worker measured it: <see cref="SecondsPerStep"/> is the
/// wall time of one denoising step for the whole batch (between the first and the last step's report, so
/// loading the model and encoding the prompt are left out); <see cref="UpscaleSeconds"/> and
/// <see cref="EncodeSeconds"/> are the totals of those phases over all images (encoding runs until the
/// images are checked and stored). Carried on the <see cref="TaskEventKind.Succeeded"/> event.
/// </summary>
public sealed record RunTiming(RunShape Shape, double SecondsPerStep, double UpscaleSeconds, double EncodeSeconds);

/// <summary>
/// Expected seconds of each phase of one run. <see cref="Measured"/> is false for a model that has not finished
/// a run since this process started: then the three phases weigh a third each and there is no ETA.
/// </summary>
public sealed record RunEstimate(double DenoiseSeconds, double UpscaleSeconds, double EncodeSeconds, bool Measured = true)
{
    /// <summary>No measurements: equal weights, no seconds.</summary>
    public static readonly RunEstimate Unmeasured = new(1, 1, 1, Measured: false);

    public double TotalSeconds => DenoiseSeconds + UpscaleSeconds + EncodeSeconds;

    /// <summary>
    /// The task's percent (0–99) at a report, weighting each phase by its expected seconds: denoising step k
    /// of n is k/n of the denoising share; image i of N starts its upscaling after i/N of the finishing share, moves
    /// through its upscaling share/N as its tiles are done, and starts its encoding after that. 100 belongs to the stored result alone, so it is never returned.
    /// </summary>
    public int PercentAt(GenerationProgress progress) =>
        Math.Clamp((int)Math.Floor(100 * FractionAt(progress) + 1e-9), 0, 99); // 1e-9: 0.6 × 100 must not floor to 59

    /// <summary>Expected seconds left at a report (whole seconds, rounded up), or null while unmeasured.</summary>
    public int? SecondsLeftAt(GenerationProgress progress) =>
        Measured ? (int)Math.Ceiling(Math.Max(0, TotalSeconds * (1 - FractionAt(progress)))) : null;

    /// <summary>Expected seconds left of a run <paramref name="percent"/> done, when no live report is at hand.</summary>
    public double SecondsLeftAt(int percent) => TotalSeconds * (1 - Math.Clamp(percent, 0, 100) / 100.0);

    private double FractionAt(GenerationProgress progress)
    {
        var total = TotalSeconds;
        var (denoise, upscale, encode) = total > 0 ? (DenoiseSeconds / total, UpscaleSeconds / total, EncodeSeconds / total) : (1 / 3.0, 1 / 3.0, 1 / 3.0);
        var images = Math.Max(1, progress.ImageCount);
        var image = Math.Clamp(progress.Image, 0, images - 1);
        return progress.Phase switch
        {
            GenerationPhase.Queued => 0,
            GenerationPhase.Denoising => progress.TotalSteps <= 0 ? 0 : denoise * Math.Clamp((double)progress.Step / progress.TotalSteps, 0, 1),
            GenerationPhase.Upscaling => denoise + ((upscale + encode) * image + upscale * Math.Clamp(progress.PhaseFraction, 0, 1)) / images,
            GenerationPhase.Encoding => denoise + ((upscale + encode) * image + upscale) / images,
            _ => 1,
        };
    }
}

/// <summary>
/// Learns, per model, what runs cost, from the <see cref="TaskEventKind.Succeeded"/> events of every worker (in a
/// cluster they arrive over the event relay): an exponential moving average (weight <see cref="Smoothing"/> for the
/// newest run) of the values below. The first run only stands in until the second replaces it outright: a model's
/// first run in a process also creates its ONNX sessions and JIT-compiles the pipeline. Kept in a 0.3 average, that
/// cold run left banana-nano's ETAs 15–25 % high for thirty runs (median error 3.1 s); replacing it brought the median
/// to 0.6–1.2 s over two runs (tools/bench-eta, BENCHMARKS.md). The averaged values are
/// <list type="bullet">
/// <item>seconds per denoising step per image (denoising always runs at the model's native size), and</item>
/// <item>upscaling and encoding seconds per output megapixel, per size tier (enlarging to 4K costs more per
/// pixel than to 1K), falling back to the average over all tiers for a tier not yet seen.</item>
/// </list>
/// Nothing is assumed before a model's first run, and the averages live in memory: after a restart a model
/// has no estimate (<see cref="Estimate"/> returns null) until a run of it finishes.
/// </summary>
public sealed class GenerationTimings : IDisposable
{
    /// <summary>Weight of the newest run in each average.</summary>
    public const double Smoothing = 0.3;

    private readonly ConcurrentDictionary<string, ModelTimes> _models = new(StringComparer.Ordinal);
    private readonly IDisposable? _subscription;

    public GenerationTimings(TaskNotifier notifier)
    {
        _subscription = notifier.SubscribeAll(e =>
        {
            if (e is { Kind: TaskEventKind.Succeeded, ModelId: { } modelId, Timing: { } timing }) Record(modelId, timing);
        });
    }

    /// <summary>A standalone instance (tests, tools) that learns only from <see cref="Record"/>.</summary>
    public GenerationTimings()
    {
    }

    public void Record(string modelId, RunTiming timing)
    {
        var shape = timing.Shape;
        if (shape.DenoiseSteps <= 0 || shape.ImageCount <= 0 || shape.OutputMegapixels <= 0) return;
        if (!double.IsFinite(timing.SecondsPerStep + timing.UpscaleSeconds + timing.EncodeSeconds)) return;
        _models.GetOrAdd(modelId, _ => new ModelTimes()).Add(timing);
    }

    /// <summary>The expected phase seconds of a run of <paramref name="modelId"/>, or null before its first finished run.</summary>
    public RunEstimate? Estimate(string modelId, RunShape shape) =>
        _models.TryGetValue(modelId, out var times) ? times.Estimate(shape) : null;

    public void Dispose() => _subscription?.Dispose();

    private sealed class ModelTimes
    {
        private readonly Lock _lock = new();
        private double _stepPerImage;
        private readonly Finishing _allTiers = new();
        private readonly Dictionary<SizeTier, Finishing> _byTier = [];
        private int _runs;

        public void Add(RunTiming timing)
        {
            var shape = timing.Shape;
            var megapixels = shape.OutputMegapixels;
            lock (_lock)
            {
                _stepPerImage = Average(_runs++, _stepPerImage, timing.SecondsPerStep / shape.ImageCount);
                _allTiers.Add(timing.UpscaleSeconds / megapixels, timing.EncodeSeconds / megapixels);
                if (!_byTier.TryGetValue(shape.Tier, out var tier)) _byTier[shape.Tier] = tier = new Finishing();
                tier.Add(timing.UpscaleSeconds / megapixels, timing.EncodeSeconds / megapixels);
            }
        }

        public RunEstimate Estimate(RunShape shape)
        {
            lock (_lock)
            {
                var finishing = _byTier.GetValueOrDefault(shape.Tier) ?? _allTiers;
                var megapixels = shape.OutputMegapixels;
                return new RunEstimate(_stepPerImage * shape.DenoiseSteps * shape.ImageCount,
                    finishing.UpscalePerMegapixel * megapixels, finishing.EncodePerMegapixel * megapixels);
            }
        }
    }

    private sealed class Finishing
    {
        private int _runs;
        public double UpscalePerMegapixel { get; private set; }
        public double EncodePerMegapixel { get; private set; }

        public void Add(double upscalePerMegapixel, double encodePerMegapixel)
        {
            UpscalePerMegapixel = Average(_runs, UpscalePerMegapixel, upscalePerMegapixel);
            EncodePerMegapixel = Average(_runs, EncodePerMegapixel, encodePerMegapixel);
            _runs++;
        }
    }

    /// <summary>The average after one more run, given how many came before: the first two are taken as they are (see above).</summary>
    private static double Average(int runsBefore, double average, double newest) =>
        runsBefore < 2 ? Math.Max(0, newest) : (1 - Smoothing) * average + Smoothing * Math.Max(0, newest);
}
