using System.Text.Json;
using BananaLab.Core.Generation;
using BananaLab.Worker.Inference.Imaging;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.Schedulers;
using BananaLab.Worker.Inference.Tokenization;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>
/// A Stable-Diffusion-layout model folder (HF Optimum ONNX export): tokenizer (vocabulary and merges, or a tokenizer
/// graph, see <see cref="ClipTokenizer.ForModel"/>), configs and the four graphs. Graphs open on first use and stay open; a failed open is retried on the next request.
/// </summary>
public sealed class StableDiffusionModel : IDisposable
{
    private readonly LazyGraph _textEncoder, _unet, _vaeDecoder, _vaeEncoder;

    public StableDiffusionModel(string folder, string displayFolder, OnnxSessionFactory sessions)
    {
        Folder = folder;
        DisplayFolder = displayFolder.Replace('\\', '/').TrimEnd('/');
        Tokenizer = ClipTokenizer.ForModel(folder, DisplayFolder, sessions);
        Scheduler = SchedulerConfig.Parse(ReadRequired("scheduler/scheduler_config.json"));

        var vae = ReadOptional("vae_decoder/config.json") ?? ReadOptional("vae_encoder/config.json") ?? ReadOptional("vae/config.json");
        ScalingFactor = Number(vae, "scaling_factor") ?? 0.18215;
        // Each VAE level but the last halves the image: factor 2^(levels-1).
        var levels = vae is not null && vae.RootElement.TryGetProperty("block_out_channels", out var blocks)
                     && blocks.ValueKind == JsonValueKind.Array ? blocks.GetArrayLength() : 4;
        DownsampleFactor = 1 << Math.Max(0, levels - 1);
        LatentChannels = (int)(Number(vae, "latent_channels") ?? 4);
        UnetSampleSize = (int?)Number(ReadOptional("unet/config.json"), "sample_size");
        PreviewMap = ReadPreviewMap();

        _textEncoder = new LazyGraph(() => Open("text_encoder/model.onnx"));
        _unet = new LazyGraph(() => Open("unet/model.onnx"));
        _vaeDecoder = new LazyGraph(() => Open("vae_decoder/model.onnx"));
        _vaeEncoder = new LazyGraph(() => Open("vae_encoder/model.onnx"));
        _promptTokenLimit = new Lazy<int?>(ReadPromptTokenLimit);
        _hasDynamicBatch = new Lazy<bool>(ReadHasDynamicBatch);

        OnnxModel Open(string relative) => sessions.Open(Path.Combine(folder, relative), $"{DisplayFolder}/{relative}");
    }

    public string Folder { get; }
    public string DisplayFolder { get; }
    public ClipTokenizer Tokenizer { get; }
    public SchedulerConfig Scheduler { get; }
    public double ScalingFactor { get; }
    public int DownsampleFactor { get; }
    public int LatentChannels { get; }
    public int? UnetSampleSize { get; }

    /// <summary>The model's fitted latent-to-RGB preview map (<c>preview/latent_rgb.json</c>); null without one.</summary>
    public LatentRgbMap? PreviewMap { get; }

    /// <summary>
    /// The most prompt tokens the model reads, bos and eos not counted: chunks of <see cref="ClipTokenizer.TokensPerChunk"/>
    /// (75) as many as the UNet's fixed text context holds (banana-nano: one, 77 positions), or null when that axis is
    /// dynamic and long prompts are encoded in as many chunks as they need. Read from the UNet file's input shapes, without
    /// loading its weights.
    /// </summary>
    public int? PromptTokenLimit => _promptTokenLimit.Value;

    private readonly Lazy<int?> _promptTokenLimit;

    public OnnxModel TextEncoder => _textEncoder.Value;
    public OnnxModel Unet => _unet.Value;
    public OnnxModel VaeDecoder => _vaeDecoder.Value;
    public OnnxModel VaeEncoder => _vaeEncoder.Value;

    /// <summary>
    /// Whether the UNet's batch axis is open, so that the rows of several tasks can share its calls; false for a graph
    /// exported with a fixed batch. Read from the file's input shapes, without loading its weights.
    /// </summary>
    public bool HasDynamicBatch => _hasDynamicBatch.Value;

    private readonly Lazy<bool> _hasDynamicBatch;

    private bool ReadHasDynamicBatch()
    {
        // The pipeline's rule (UnetPorts): the input named sample, else the first.
        var inputs = ReadUnetInputs();
        var sample = inputs.TryGetValue("sample", out var named) ? named : inputs.Values.FirstOrDefault();
        return sample is { Length: > 0 } && sample[0] <= 0;
    }

    private IReadOnlyDictionary<string, long[]> ReadUnetInputs()
    {
        const string unet = "unet/model.onnx";
        var path = Path.Combine(Folder, unet);
        if (!File.Exists(path)) throw new GenerationException(GenerationErrors.ModelUnavailable, $"{DisplayFolder}/{unet} is missing.");
        IReadOnlyDictionary<string, long[]> inputs;
        try
        {
            inputs = OnnxGraphInputs.Read(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{DisplayFolder}/{unet} is corrupt or unreadable: {e.Message}", false, e);
        }
        return inputs;
    }

    private int? ReadPromptTokenLimit()
    {
        var inputs = ReadUnetInputs();
        // The pipeline's rule (NoisePredictor): the input named encoder_hidden_states, else the third.
        var context = inputs.TryGetValue("encoder_hidden_states", out var named) ? named : inputs.Values.ElementAtOrDefault(2);
        if (context is not { Length: > 1 } || context[1] <= 0) return null;
        return (int)Math.Max(1, context[1] / Tokenizer.MaxLength) * Tokenizer.TokensPerChunk;
    }

    private string ReadRequired(string relative)
    {
        var path = Path.Combine(Folder, relative);
        if (!File.Exists(path)) throw new GenerationException(GenerationErrors.ModelUnavailable, $"{DisplayFolder}/{relative} is missing.");
        return File.ReadAllText(path);
    }

    private JsonDocument? ReadOptional(string relative)
    {
        var path = Path.Combine(Folder, relative);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{DisplayFolder}/{relative} is not valid JSON.", false, e);
        }
    }

    private LatentRgbMap? ReadPreviewMap()
    {
        using var json = ReadOptional(LatentRgbMap.RelativePath);
        if (json is null) return null;
        var display = $"{DisplayFolder}/{LatentRgbMap.RelativePath}";
        LatentRgbMap? map;
        try
        {
            map = json.Deserialize<LatentRgbMap>();
        }
        catch (JsonException e)
        {
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{display} is not a latent-to-RGB map: {e.Message}", false, e);
        }
        var problem = map is null ? "empty" : map.Problem(LatentChannels);
        if (problem is not null)
            throw new GenerationException(GenerationErrors.ModelUnavailable, $"{display}: {problem}; rerun tools/preview-fit or delete the file.");
        return map;
    }

    private static double? Number(JsonDocument? json, string key) =>
        json is not null && json.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public void Dispose()
    {
        Tokenizer.Dispose();
        _textEncoder.Dispose();
        _unet.Dispose();
        _vaeDecoder.Dispose();
        _vaeEncoder.Dispose();
    }

    /// <summary>Opens once, thread-safe; unlike Lazy&lt;T&gt; it does not cache a failure.</summary>
    private sealed class LazyGraph(Func<OnnxModel> open) : IDisposable
    {
        private readonly Lock _lock = new();
        private OnnxModel? _model;

        public OnnxModel Value
        {
            get
            {
                if (Volatile.Read(ref _model) is { } model) return model;
                lock (_lock) return _model ??= open();
            }
        }

        public void Dispose()
        {
            lock (_lock) _model?.Dispose();
        }
    }
}
