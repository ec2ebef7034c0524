using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Inference;
using Microsoft.Extensions.Configuration;

namespace BananaLab.Tests.Inference;

/// <summary>
/// Where the inference tests find banana-nano: the shipped <c>models/</c> folder at the repository
/// root, or the folder in BANANALAB_TEST_MODELS (a scratch export while the real one is trained).
/// </summary>
public static class InferenceTestModels
{
    public const string ModelsVariable = "BANANALAB_TEST_MODELS";

    public static string RepositoryRoot => RepositoryPaths.Root;

    public static string ModelsRoot =>
        Environment.GetEnvironmentVariable(ModelsVariable) is { Length: > 0 } custom ? custom : Path.Combine(RepositoryRoot, "models");

    public static string NanoFolder => Path.Combine(ModelsRoot, "banana-nano");

    public static string UpscalerPath => Path.Combine(ModelsRoot, "upscaler", "x4", "model.onnx");

    /// <summary>
    /// A CLIP BPE tokenizer folder (vocab.json, merges.txt and configs; banana-nano 1's, 3,481 ids) for the tests of
    /// the BPE and tokenizer-graph layouts, which banana-nano 2's concept lexicon replaced in <c>models/</c>.
    /// </summary>
    public static string ClipBpeTokenizer => DataFile("clip-bpe-tokenizer");

    /// <summary>
    /// A model folder of the tiny stand-in graphs (<c>Data/variant-model</c>, whose text encoder takes any id) with the
    /// CLIP BPE tokenizer, copied to <paramref name="folder"/>; <paramref name="withVocabulary"/> false leaves out
    /// vocab.json and merges.txt (for a tokenizer graph to stand in).
    /// </summary>
    public static string BpeModelFolder(string folder, bool withVocabulary = true)
    {
        CopyFolder(DataFile("variant-model"), folder, file => !file.EndsWith(".py", StringComparison.Ordinal));
        CopyFolder(ClipBpeTokenizer, Path.Combine(folder, "tokenizer"),
            file => withVocabulary || Path.GetFileName(file) is not ("vocab.json" or "merges.txt"));
        return folder;
    }

    public static string DataFile(string name) => Path.Combine(RepositoryRoot, "BananaLab.Tests", "Inference", "Data", name);

    private static readonly IConfiguration Settings =
        new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot, "appsettings.json")).Build();

    /// <summary>A catalog entry of the shipped appsettings.json, its path under <see cref="ModelsRoot"/>.</summary>
    public static ModelDefinition Catalog(string id)
    {
        var model = Settings.GetSection($"Models:{id}").Get<ModelDefinition>() ?? throw new InvalidOperationException($"no {id} in appsettings.json");
        model.Id = id;
        model.Path = Path.Combine(ModelsRoot, Path.GetFileName(model.Path));
        return model;
    }

    /// <summary>banana-nano's catalog entry of appsettings.json, pointed at a folder (the shipped one by default).</summary>
    public static ModelDefinition Nano(string? folder = null)
    {
        var model = Catalog("banana-nano");
        if (folder is not null) model.Path = folder;
        return model;
    }

    public static GenerationRequest Request(int width = 1024, int height = 1024, int count = 1, long seed = 7, int steps = 2,
        double guidance = 5.0, OutputFormat format = OutputFormat.Png, string? reference = null, double strength = 0.75,
        ModelDefinition? model = null, string prompt = "red apple", string? negative = null) =>
        new(Guid.NewGuid(), model ?? Nano(), prompt, negative, width, height, count, seed, steps, guidance, format, reference, strength);

    /// <summary>Copies every file under <paramref name="from"/> that <paramref name="include"/> takes (all by default) to the same place under <paramref name="to"/>.</summary>
    public static void CopyFolder(string from, string to, Func<string, bool>? include = null)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (include is not null && !include(file)) continue;
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The <c>onnx</c> generator with the worker's finishing step behind it, as the worker runs them.</summary>
    public static LocalGeneration CreateGenerator(string? upscalerPath = null) => new(RepositoryRoot, upscalerPath ?? UpscalerPath);
}

/// <summary>Keeps each written image in memory.</summary>
public sealed class MemoryImageOutput : IImageOutput
{
    private readonly Dictionary<int, MemoryStream> _streams = [];

    public Stream Create(int index) => _streams[index] = new MemoryStream();

    public byte[] Bytes(int index) => _streams[index].ToArray();

    public int Count => _streams.Count;
}

public sealed class RecordingProgress : IGenerationProgress
{
    public List<GenerationProgress> Reports { get; } = [];
    public Action<GenerationProgress>? OnReport { get; init; }

    public void Report(GenerationProgress progress)
    {
        lock (Reports) Reports.Add(progress);
        OnReport?.Invoke(progress);
    }
}
