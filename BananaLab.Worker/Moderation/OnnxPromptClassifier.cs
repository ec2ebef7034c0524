using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using BananaLab.Core.Moderation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BananaLab.Worker.Moderation;

/// <summary>The learned prompt classifier's files (<c>Moderation:PromptClassifier</c>).</summary>
public sealed class PromptClassifierOptions
{
    public const string Section = "Moderation:PromptClassifier";
    public const string DefaultPath = "models/moderation/prompt-classifier.onnx";

    /// <summary>
    /// The ONNX model, relative to the content root or absolute; its spec is the file beside it with the extension .json.
    /// A missing model turns the classifier layer off (logged at start); an unreadable one stops start-up.
    /// </summary>
    public string Path { get; set; } = DefaultPath;

    internal string Resolve(string contentRoot) => System.IO.Path.GetFullPath(System.IO.Path.Combine(contentRoot, Path));
}

/// <summary>
/// The classifier's JSON spec, written by tools/moderation-classifier/train.py beside the model: its categories (the
/// output order), thresholds and feature parameters.
/// </summary>
internal sealed record PromptClassifierSpec(
    [property: JsonPropertyName("categories")] List<string> Categories,
    [property: JsonPropertyName("thresholds")] Dictionary<string, double> Thresholds,
    [property: JsonPropertyName("features")] PromptClassifierSpec.FeatureSpec Features)
{
    internal sealed record FeatureSpec(
        [property: JsonPropertyName("ngrams")] int[] Ngrams,
        [property: JsonPropertyName("buckets")] int Buckets,
        [property: JsonPropertyName("hash")] string Hash);
}

/// <summary>A loaded model: its session, spec and feature extractor. Loading checks that they fit each other.</summary>
internal sealed class PromptClassifierModel : IDisposable
{
    public const string IndicesInput = "indices";
    public const string CountsInput = "counts";

    private PromptClassifierModel(InferenceSession session, PromptClassifierSpec spec)
    {
        Session = session;
        Spec = spec;
        Features = new PromptFeatures(spec.Features.Ngrams[0], spec.Features.Ngrams[1], spec.Features.Buckets);
    }

    public InferenceSession Session { get; }
    public PromptClassifierSpec Spec { get; }
    public PromptFeatures Features { get; }

    private static readonly ConcurrentDictionary<(string Path, DateTime Written), Lazy<PromptClassifierModel>> Loaded = new();

    /// <summary>
    /// <see cref="Load"/>, once per file for the process: the start-up validator and the classifier (and every host a
    /// process starts) share one session, which lives as long as the process. A failed load is not kept.
    /// <paramref name="loadedNow"/> is true for the call that loaded it.
    /// </summary>
    public static PromptClassifierModel LoadShared(string modelPath, out bool loadedNow)
    {
        var key = (modelPath, File.GetLastWriteTimeUtc(modelPath));
        var created = false;
        var lazy = Loaded.GetOrAdd(key, _ => new Lazy<PromptClassifierModel>(() => { created = true; return Load(modelPath); }));
        try
        {
            var model = lazy.Value;
            loadedNow = created;
            return model;
        }
        catch
        {
            Loaded.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    /// <summary>Loads the model and its spec; throws <see cref="InvalidDataException"/> saying what is wrong with which file.</summary>
    public static PromptClassifierModel Load(string modelPath)
    {
        var specPath = System.IO.Path.ChangeExtension(modelPath, ".json");
        if (!File.Exists(specPath)) throw new InvalidDataException($"the spec {specPath} beside the model does not exist");
        PromptClassifierSpec spec;
        try
        {
            spec = JsonSerializer.Deserialize<PromptClassifierSpec>(File.ReadAllText(specPath))
                   ?? throw new InvalidDataException($"{specPath} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{specPath} is not a classifier spec: {e.Message}");
        }
        if (spec.Categories is not { Count: > 0 } || spec.Thresholds is null || spec.Features?.Ngrams is not { Length: 2 }
            || spec.Features.Ngrams[0] < 1 || spec.Features.Ngrams[1] < spec.Features.Ngrams[0] || spec.Features.Buckets < 1)
            throw new InvalidDataException($"{specPath} needs categories, thresholds, features.ngrams [min, max] and features.buckets");
        if (spec.Features.Hash?.StartsWith("FNV-1a 32-bit", StringComparison.Ordinal) != true)
            throw new InvalidDataException($"{specPath} uses the hash '{spec.Features.Hash}'; this build computes FNV-1a 32-bit");
        var missing = spec.Categories.Where(c => !spec.Thresholds.ContainsKey(c)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"{specPath} has no threshold for {string.Join(", ", missing)}");
        var outOfRange = spec.Thresholds.Where(t => t.Value is < 0 or > 1 || double.IsNaN(t.Value)).Select(t => t.Key).ToList();
        if (outOfRange.Count > 0) throw new InvalidDataException($"{specPath} has thresholds outside 0-1 for {string.Join(", ", outOfRange)}");

        InferenceSession session;
        try
        {
            // One thread a call, no spinning: a 4 MB model gains nothing from a thread pool, and its spinning threads
            // would only compete with requests and inference for the cores (ORT's "session.intra_op.allow_spinning").
            var sessionOptions = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1,
            };
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            session = new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{modelPath} is not a model ONNX Runtime can load: {e.Message}");
        }
        var output = session.OutputMetadata.Values.First();
        if (!session.InputMetadata.ContainsKey(IndicesInput) || !session.InputMetadata.ContainsKey(CountsInput)
            || output.Dimensions[^1] != spec.Categories.Count)
        {
            var inputs = string.Join(", ", session.InputMetadata.Keys);
            session.Dispose();
            throw new InvalidDataException($"{modelPath} takes ({inputs}) and gives {output.Dimensions[^1]} scores; a prompt classifier " +
                                           $"takes ({IndicesInput}, {CountsInput}) and gives one score per category of its spec ({spec.Categories.Count})");
        }
        return new PromptClassifierModel(session, spec);
    }

    public void Dispose() => Session.Dispose();
}

/// <summary>
/// Stops start-up when <c>Moderation:PromptClassifier:Path</c> names a model that cannot be loaded, naming the key; a
/// missing model is allowed (the classifier layer is then off, and the log says so once).
/// </summary>
public sealed class PromptClassifierOptionsValidator(IHostEnvironment environment, ILogger<PromptClassifierOptionsValidator> logger)
    : IValidateOptions<PromptClassifierOptions>
{
    public ValidateOptionsResult Validate(string? name, PromptClassifierOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
            return ValidateOptionsResult.Fail($"{PromptClassifierOptions.Section}:Path must name the classifier model (default {PromptClassifierOptions.DefaultPath}).");
        var path = options.Resolve(environment.ContentRootPath);
        if (!File.Exists(path))
        {
            logger.LogWarning("{Key}: {Path} does not exist; the prompt classifier layer is off",
                $"{PromptClassifierOptions.Section}:Path", path);
            return ValidateOptionsResult.Success;
        }
        try
        {
            var model = PromptClassifierModel.LoadShared(path, out var loadedNow);
            if (loadedNow) logger.LogInformation("Prompt classifier {Path}: categories {Categories}", path, string.Join(", ", model.Spec.Categories));
            return ValidateOptionsResult.Success;
        }
        catch (InvalidDataException e)
        {
            return ValidateOptionsResult.Fail($"{PromptClassifierOptions.Section}:Path: {e.Message}.");
        }
    }
}

/// <summary>
/// Runs the prompt classifier in process with ONNX Runtime: features (<see cref="PromptFeatures"/>) in as the text's
/// non-zero buckets (int64 [n]) and their counts (float [n]), one session created once and shared (InferenceSession.Run is thread-safe:
/// https://onnxruntime.ai/docs/api/csharp/api/Microsoft.ML.OnnxRuntime.InferenceSession.html), probabilities out.
/// Without a model file it is not loaded and scores nothing. The session is the one the start-up validator loaded
/// (<see cref="PromptClassifierModel.LoadShared"/>), not a second copy.
/// </summary>
public sealed class OnnxPromptClassifier : IPromptClassifier
{
    private readonly PromptClassifierModel? _model;

    public OnnxPromptClassifier(IOptions<PromptClassifierOptions> options, IHostEnvironment environment)
    {
        var path = options.Value.Resolve(environment.ContentRootPath);
        if (!File.Exists(path)) return;
        try
        {
            _model = PromptClassifierModel.LoadShared(path, out _);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException($"{PromptClassifierOptions.Section}:Path: {e.Message}.", e);
        }
        Thresholds = _model.Spec.Categories.ToDictionary(c => c, c => _model.Spec.Thresholds[c]);
    }

    public bool IsLoaded => _model is not null;

    /// <summary>The loaded model, shared with the start-up check; null without a model file.</summary>
    internal PromptClassifierModel? Model => _model;

    public IReadOnlyList<string> Categories => _model?.Spec.Categories ?? [];

    public IReadOnlyDictionary<string, double> Thresholds { get; } = new Dictionary<string, double>();

    public PromptClassification Classify(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_model is null) return PromptClassification.None;
        var counts = _model.Features.Counts(text);
        var indices = new DenseTensor<long>([counts.Count]);
        var values = new DenseTensor<float>([counts.Count]);
        for (var i = 0; i < counts.Count; i++)
        {
            indices[i] = counts[i].Bucket;
            values[i] = counts[i].Count;
        }
        using var results = _model.Session.Run([
            NamedOnnxValue.CreateFromTensor(PromptClassifierModel.IndicesInput, indices),
            NamedOnnxValue.CreateFromTensor(PromptClassifierModel.CountsInput, values)]);
        var probabilities = results[0].AsTensor<float>();
        var categories = _model.Spec.Categories;
        var scores = new CategoryScore[categories.Count];
        for (var i = 0; i < scores.Length; i++)
            scores[i] = new CategoryScore(categories[i], probabilities[0, i], Thresholds[categories[i]]);
        return new PromptClassification(scores);
    }
}
