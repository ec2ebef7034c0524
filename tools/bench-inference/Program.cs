// Benchmark of the banana-nano ONNX pipeline on this machine; prints a markdown table.
//
//   dotnet run -c Release --project tools/bench-inference -- [--models DIR] [--runs 5] [--steps 20] [--count 1]
//       [--pytorch /usr/bin/python3] [--save DIR] [--only tiers|stages|turbo|parts] [--aspect 1:1]
//
// Rows: the pipeline at 1K/2K/4K (denoise + decode + x4 super-resolution + encode), the pipeline's
// native-resolution stage alone (128x128, no upscaling), the same ONNX graphs in a bare loop, and
// optionally PyTorch eager (tools/bench-inference/pytorch_baseline.py, run by the given Python on the weights of the
// committed ONNX files). Medians of warm runs. `--only tiers` times just
// the 1K/2K/4K rows, the figures the model's description quotes; `--aspect W:H` sizes those rows as the product does for
// that aspect ratio (without it: 1024x1024, 2048x1152, 4096x2304, the sizes of the earlier runs). `--only stages` times the
// finishing step of each tier stage by stage (StageProfile.cs). The load average is printed before and after, since
// a shared machine's other jobs show up in every figure. `--only turbo` times banana-nano (20 steps, guidance 3) against
// banana-nano-turbo (4 steps, no guidance), their catalog defaults, alternating run by run at native size and at 1K;
// `--only parts` times each graph alone and the concept lexicon's load.
using System.Diagnostics;
using System.Globalization;
using BananaLab.Bench;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Worker.Inference;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Schedulers;
using BananaLab.Worker.Inference.StableDiffusion;
using BananaLab.Worker.Inference.Tokenization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

var arguments = Arguments.Parse(args);
var root = BenchSupport.RepositoryRoot();
var modelsRoot = arguments.Get("models", Path.Combine(root, "models"));
var runs = int.Parse(arguments.Get("runs", "5"), CultureInfo.InvariantCulture);
var steps = int.Parse(arguments.Get("steps", "20"), CultureInfo.InvariantCulture);
const double Guidance = 5.0;
var saveDir = arguments.GetOptional("save");
var tiersOnly = arguments.GetOptional("only") == "tiers";
var tierSizes = arguments.GetOptional("aspect") is { } aspectText
    ? AspectRatio.TryParse(aspectText, out var aspect)
        ? new[] { SizeTier.OneK, SizeTier.TwoK, SizeTier.FourK }.Select(tier => SizeTiers.PixelSize(tier, aspect))
            .Select(size => (Label: $"{size.Width}x{size.Height}", size.Width, size.Height)).ToArray()
        : throw new ArgumentException($"--aspect must be one of {string.Join(", ", AspectRatio.Offered)}.")
    : new[] { ("1024x1024", 1024, 1024), ("2048x1152", 2048, 1152), ("4096x2304", 4096, 2304) };

var options = Options.Create(new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cpu });
var upscalerPath = Path.Combine(modelsRoot, "upscaler", "x4", "model.onnx");
// The onnx generator and the worker's finishing step, as the worker runs them.
using var generator = new LocalGeneration(root, upscalerPath, options.Value);
const int Native = 128;
var model = new ModelDefinition { Id = "banana-nano", Provider = "onnx", Path = Path.Combine(modelsRoot, "banana-nano"), NativeWidth = Native, NativeHeight = Native };

Console.WriteLine($"# banana-nano inference benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"{Environment.ProcessorCount} cores, ONNX Runtime CPU, {options.Value.EffectiveIntraOpThreads} intra-op threads, " +
                  $"{steps} steps, guidance {Guidance}, batch 1, {runs} warm runs (median), upscaler {(File.Exists(upscalerPath) ? "x4 ONNX" : "missing: cubic fallback")}");
Console.WriteLine($"Load average at start: {LoadAverage()}");
Console.WriteLine();

var rows = new List<(string Name, double MedianMs, string CpuMs)>();
double? peakWorkingSet = null, peakManaged = null;

GenerationRequest Request(int width, int height, long seed) => new(Guid.NewGuid(), model, "red apple", null, width, height, 1, seed,
    steps, Guidance, OutputFormat.Png, null, 0);
if (arguments.GetOptional("only") == "turbo")
{
    var turbo = new ModelDefinition { Id = "banana-nano-turbo", Provider = "onnx", Path = Path.Combine(modelsRoot, "banana-nano-turbo"), NativeWidth = Native, NativeHeight = Native };
    var count = int.Parse(arguments.Get("count", "1"), CultureInfo.InvariantCulture); // images per task; times are per image
    GenerationRequest For(ModelDefinition m, int size, long seed) => new(Guid.NewGuid(), m, "a cat next to a banana on a blue background", null,
        size, size, count, seed, m == turbo ? 4 : 20, m == turbo ? 1.0 : 3.0, OutputFormat.Png, null, 0);
    Console.WriteLine($"{count} image(s) per task; milliseconds per image, median of {runs} runs of each, alternating\n");
    Console.WriteLine("| Size | banana-nano, 20 steps, guidance 3 (ms) | banana-nano-turbo, 4 steps (ms) | Speed-up |\n|---|---:|---:|---:|");
    foreach (var size in new[] { Native, 1024 })
    {
        var times = new Dictionary<ModelDefinition, List<double>> { [model] = [], [turbo] = [] };
        foreach (var m in times.Keys) await generator.GenerateAsync(For(m, size, 0), NoProgress.Instance, new CountingOutput(), CancellationToken.None);
        for (var i = 0; i < runs; i++)
            foreach (var m in i % 2 == 0 ? new[] { model, turbo } : [turbo, model]) // alternate who goes first
            {
                var clock = Stopwatch.StartNew();
                await generator.GenerateAsync(For(m, size, i + 1), NoProgress.Instance, new CountingOutput(), CancellationToken.None);
                times[m].Add(clock.Elapsed.TotalMilliseconds / count);
            }
        var (nano, fast) = (Median(times[model]), Median(times[turbo]));
        Console.WriteLine($"| {size}x{size} | {nano:F1} | {fast:F1} | {nano / fast:F2}x |");
    }
    Console.WriteLine($"\nLoad average at end: {LoadAverage()}");
    return 0;
}
if (arguments.GetOptional("only") == "parts")
{
    // Each graph alone with the pipeline's session settings (medians of `runs` after a warm-up), and the concept lexicon's
    // load time and managed heap: the fixed costs banana-nano-turbo shares with banana-nano.
    var folder = Path.Combine(modelsRoot, "banana-nano");
    using var sessionOptions = new SessionOptions
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = options.Value.EffectiveIntraOpThreads, InterOpNumThreads = 1,
    };
    using var text = new InferenceSession(Path.Combine(folder, "text_encoder", "model.onnx"), sessionOptions);
    using var unet = new InferenceSession(Path.Combine(folder, "unet", "model.onnx"), sessionOptions);
    using var decoder = new InferenceSession(Path.Combine(folder, "vae_decoder", "model.onnx"), sessionOptions);
    double Time(Action call)
    {
        call();
        var times = new List<double>();
        for (var i = 0; i < Math.Max(runs, 5); i++) { var clock = Stopwatch.StartNew(); call(); times.Add(clock.Elapsed.TotalMilliseconds); }
        return Median(times);
    }
    Console.WriteLine("| Part | Median (ms) |\n|---|---:|");
    foreach (var batch in new[] { 1, 2 })
    {
        using var ids = OrtValue.CreateTensorValueFromMemory(new long[batch * 77], [batch, 77]);
        using var context = OrtValue.CreateTensorValueFromMemory(new float[batch * 77 * 128], [batch, 77, 128]);
        using var sample = OrtValue.CreateTensorValueFromMemory(new float[batch * 4 * 16 * 16], [batch, 4, 16, 16]);
        using var timestep = OrtValue.CreateTensorValueFromMemory(new long[batch], [batch]);
        using var runOptions = new RunOptions();
        Console.WriteLine($"| text encoder, batch {batch} | {Time(() => text.Run(runOptions, ["input_ids"], [ids], ["last_hidden_state"]).Dispose()):F2} |");
        Console.WriteLine($"| UNet, batch {batch} | {Time(() => unet.Run(runOptions, ["sample", "timestep", "encoder_hidden_states"], [sample, timestep, context], ["out_sample"]).Dispose()):F2} |");
    }
    using (var latent = OrtValue.CreateTensorValueFromMemory(new float[4 * 16 * 16], [1, 4, 16, 16]))
    using (var runOptions = new RunOptions())
        Console.WriteLine($"| VAE decoder, {Native}x{Native} | {Time(() => decoder.Run(runOptions, ["latent_sample"], [latent], ["sample"]).Dispose()):F2} |");
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    var loadClock = Stopwatch.StartNew();
    var lexicon = ConceptLexicon.Load(Path.Combine(folder, "tokenizer"));
    var loadMs = loadClock.Elapsed.TotalMilliseconds;
    var heapMb = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1e6;
    GC.KeepAlive(lexicon);
    Console.WriteLine($"| concept lexicon load (managed heap +{heapMb:F0} MB) | {loadMs:F0} |");
    return 0;
}
if (arguments.GetOptional("only") == "stages")
{
    await StageProfile.RunAsync(generator, width => Request(width.Width, width.Height, 1), tierSizes, runs, saveDir);
    return 0;
}

if (!tiersOnly)
{
    // The native stage and the bare loop alternate run by run, so background load hits both alike.
    using var bareLoop = new BareLoop(Path.Combine(modelsRoot, "banana-nano"), options.Value.EffectiveIntraOpThreads, steps, Guidance);
    await generator.GenerateAsync(Request(Native, Native, 0), NoProgress.Instance, new CountingOutput(), CancellationToken.None);
    bareLoop.Once(0);
    var nativeTimes = new List<double>();
    var bareTimes = new List<double>();
    for (var i = 0; i < runs; i++)
    {
        var output = saveDir is not null && i == 0 ? (IImageOutput)new FileOutput(saveDir, $"{Native}x{Native}") : new CountingOutput();
        // Alternate which goes first so spinning ONNX worker threads left by one do not always slow the other.
        if (i % 2 == 1) bareTimes.Add(bareLoop.Once(i + 1));
        var clock = Stopwatch.StartNew();
        await generator.GenerateAsync(Request(Native, Native, i + 1), NoProgress.Instance, output, CancellationToken.None);
        nativeTimes.Add(clock.Elapsed.TotalMilliseconds);
        if (i % 2 == 0) bareTimes.Add(bareLoop.Once(i + 1));
    }
    rows.Add(($"pipeline native {Native}x{Native} (denoise + decode + PNG, no upscaling)", Median(nativeTimes), ""));
    rows.Add(($"bare ONNX loop {Native}x{Native} (text encoder + UNet steps + VAE decode)", Median(bareTimes), ""));
}

foreach (var (size, width, height) in tierSizes)
{
    await generator.GenerateAsync(Request(width, height, 0), NoProgress.Instance, new CountingOutput(), CancellationToken.None); // warm-up
    var label = $"{SizeTiers.Covering(width, height).Label()} {size}";
    using var sampler = Math.Max(width, height) == 4096 ? new MemorySampler() : null;
    var times = new List<double>();
    var cpuTimes = new List<double>();
    using var self = Process.GetCurrentProcess();
    for (var i = 0; i < runs; i++)
    {
        var output = saveDir is not null && i == 0 ? (IImageOutput)new FileOutput(saveDir, $"{width}x{height}") : new CountingOutput();
        self.Refresh();
        var cpuBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await generator.GenerateAsync(Request(width, height, i + 1), NoProgress.Instance, output, CancellationToken.None);
        times.Add(clock.Elapsed.TotalMilliseconds);
        self.Refresh();
        cpuTimes.Add((self.TotalProcessorTime - cpuBefore).TotalMilliseconds);
    }
    if (sampler is not null) (peakWorkingSet, peakManaged) = sampler.Stop();
    // CPU time hardly grows when other jobs share the cores, so it tells a busy machine's wall times apart from the work.
    rows.Add(($"pipeline {label}", Median(times), Median(cpuTimes).ToString("F1", CultureInfo.InvariantCulture)));
}

if (arguments.GetOptional("pytorch") is { } python3)
{
    var script = Path.Combine(root, "tools", "bench-inference", "pytorch_baseline.py");
    var pythonArgs = $"{script} --models {Path.Combine(modelsRoot, "banana-nano")} --steps {steps} --guidance {Guidance} --runs {runs} " +
                     $"--threads {Environment.ProcessorCount}";
    Console.Error.WriteLine($"running: {python3} {pythonArgs}");
    var python = Process.Start(new ProcessStartInfo(python3, pythonArgs) { RedirectStandardOutput = true, RedirectStandardError = true })!;
    var errors = python.StandardError.ReadToEndAsync();
    var text = await python.StandardOutput.ReadToEndAsync();
    await python.WaitForExitAsync();
    var median = text.Split(' ', '\n').FirstOrDefault(t => t.StartsWith("median_ms=", StringComparison.Ordinal));
    if (median is not null) rows.Add(($"PyTorch eager {Native}x{Native} (sample.py NanoPipeline, the ONNX files' weights)", double.Parse(median[10..], CultureInfo.InvariantCulture), ""));
    else Console.Error.WriteLine($"PyTorch baseline failed: {await errors}");
}

Console.WriteLine("| Run | Median latency per image (ms) | Images/s | Median process CPU time per image (ms) |");
Console.WriteLine("|---|---:|---:|---:|");
foreach (var (name, ms, cpu) in rows)
    Console.WriteLine($"| {name} | {ms.ToString("F1", CultureInfo.InvariantCulture)} | {(1000 / ms).ToString("F2", CultureInfo.InvariantCulture)} | {cpu} |");
Console.WriteLine();
Console.WriteLine($"Load average at end: {LoadAverage()}");
if (!tiersOnly)
    Console.WriteLine($"Pipeline native stage vs bare loop: {(rows[1].MedianMs / rows[0].MedianMs).ToString("F2", CultureInfo.InvariantCulture)} of the bare rate (target >= 0.90).");
if (peakWorkingSet is not null)
    Console.WriteLine($"Peak during 4K runs: working set {peakWorkingSet:F0} MiB (process, GC + native), managed heap {peakManaged:F0} MiB.");
if (arguments.GetOptional("pytorch") is null && !tiersOnly)
    Console.WriteLine($"PyTorch eager baseline: /usr/bin/python3 tools/bench-inference/pytorch_baseline.py --steps {steps} --runs {runs} " +
                      "(or pass --pytorch /usr/bin/python3 to run it here).");
return 0;

// The 1, 5 and 15 minute load averages (Linux); "unknown" elsewhere.
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <summary>The same graphs with the same session settings, called directly: the ceiling for the pipeline.</summary>
sealed class BareLoop : IDisposable
{
    private readonly InferenceSession _text, _unet, _vae;
    private readonly ClipTokenizer _tokenizer;
    private readonly DdimScheduler _scheduler;
    private readonly double _scaling, _guidance;
    private readonly int _steps;

    public BareLoop(string folder, int threads, int steps, double guidance)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1,
            EnableMemoryPattern = true, EnableCpuMemArena = true,
        };
        _text = new InferenceSession(Path.Combine(folder, "text_encoder", "model.onnx"), sessionOptions);
        _unet = new InferenceSession(Path.Combine(folder, "unet", "model.onnx"), sessionOptions);
        _vae = new InferenceSession(Path.Combine(folder, "vae_decoder", "model.onnx"), sessionOptions);
        _tokenizer = ClipTokenizer.ForModel(folder, "model", new OnnxSessionFactory(Options.Create(new InferenceOptions())));
        _scheduler = new DdimScheduler(SchedulerConfig.Parse(File.ReadAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"))), steps);
        _scaling = 1 / System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "vae_decoder", "config.json")))
            .RootElement.GetProperty("scaling_factor").GetDouble();
        _steps = steps;
        _guidance = guidance;
    }

    /// <summary>One image; returns milliseconds.</summary>
    public double Once(long seed)
    {
        var clock = Stopwatch.StartNew();
        var ids = _tokenizer.EncodeForModel("").Concat(_tokenizer.EncodeForModel("red apple")).ToArray();
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [2, 77]);
        using var runOptions = new RunOptions();
        using var context = _text.Run(runOptions, ["input_ids"], [idsValue], ["last_hidden_state"]);
        var x = new float[4 * 16 * 16];
        new NoiseRandom(seed).FillGaussian(x);
        var doubled = new float[2 * x.Length];
        using var sample = OrtValue.CreateTensorValueFromMemory(doubled, [2, 4, 16, 16]);
        var timestep = new long[2];
        using var timestepValue = OrtValue.CreateTensorValueFromMemory(timestep, [2]);
        for (var i = 0; i < _steps; i++)
        {
            x.CopyTo(doubled, 0);
            x.CopyTo(doubled, x.Length);
            Array.Fill(timestep, (long)_scheduler.Timesteps[i]);
            using var result = _unet.Run(runOptions, ["sample", "timestep", "encoder_hidden_states"], [sample, timestepValue, context[0]], ["out_sample"]);
            var v = result[0].GetTensorDataAsSpan<float>();
            var c = _scheduler.Coefficients(i);
            for (var k = 0; k < x.Length; k++)
                x[k] = (float)(c.Sample * x[k] + c.Model * (v[k] + _guidance * (v[x.Length + k] - v[k])));
        }
        for (var k = 0; k < x.Length; k++) x[k] = (float)(x[k] * _scaling);
        using var latent = OrtValue.CreateTensorValueFromMemory(x, [1, 4, 16, 16]);
        using var image = _vae.Run(runOptions, ["latent_sample"], [latent], ["sample"]);
        return clock.Elapsed.TotalMilliseconds;
    }

    public void Dispose()
    {
        _text.Dispose();
        _unet.Dispose();
        _vae.Dispose();
    }
}

/// <summary>Polls the process working set and managed heap every 5 ms while a run is measured.</summary>
sealed class MemorySampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _peakWorkingSet, _peakManaged;

    public MemorySampler()
    {
        _thread = new Thread(() =>
        {
            using var process = Process.GetCurrentProcess();
            while (!_stop.IsCancellationRequested)
            {
                process.Refresh();
                _peakWorkingSet = Math.Max(_peakWorkingSet, process.WorkingSet64);
                _peakManaged = Math.Max(_peakManaged, GC.GetTotalMemory(false));
                Thread.Sleep(5);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public (double WorkingSetMiB, double ManagedMiB) Stop()
    {
        _stop.Cancel();
        _thread.Join();
        return (_peakWorkingSet / 1048576.0, _peakManaged / 1048576.0);
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested) Stop();
        _stop.Dispose();
    }
}

sealed class NoProgress : IGenerationProgress
{
    public static readonly NoProgress Instance = new();
    public void Report(GenerationProgress progress) { }
}

/// <summary>Encodes for real but keeps nothing: the bench times the encoder, not the disk.</summary>
sealed class CountingOutput : IImageOutput
{
    public Stream Create(int index) => Stream.Null;
}

sealed class FileOutput(string folder, string name) : IImageOutput
{
    public Stream Create(int index)
    {
        Directory.CreateDirectory(folder);
        return File.Create(Path.Combine(folder, $"{name}-{index}.png"));
    }
}

sealed class Arguments(Dictionary<string, string> values)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2) values[args[i].TrimStart('-')] = args[i + 1];
        return new Arguments(values);
    }

    public string Get(string key, string fallback) => values.GetValueOrDefault(key, fallback);
    public string? GetOptional(string key) => values.GetValueOrDefault(key);
}
