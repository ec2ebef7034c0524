using BananaLab.Core.Tasks;

namespace BananaLab.Core.Catalog;

/// <summary>One entry of the <c>Models</c> section of appsettings.json; the section key is the model id.</summary>
public sealed class ModelDefinition
{
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>Which generator runs the model: <c>onnx</c> (local), <c>openai</c>, <c>gemini</c> or <c>automatic1111</c>.</summary>
    public string Provider { get; set; } = "";
    /// <summary>
    /// A remote provider's base URL (<c>openai</c>: up to and including <c>/v1</c>); empty = the provider's public endpoint.
    /// </summary>
    public string? Endpoint { get; set; }
    /// <summary>A remote provider's secret. Never logged or shown; set it in the environment (<c>Models__id__ApiKey</c>).</summary>
    public string? ApiKey { get; set; }
    /// <summary>The provider's own name for the model, e.g. <c>gpt-image-1</c> or <c>gemini-2.5-flash-image</c>.</summary>
    public string? RemoteModel { get; set; }
    /// <summary>How many tasks of this model one worker runs at once; 0 = the provider's default (<see cref="Generation.IImageGenerator.DefaultConcurrency"/>).</summary>
    public int Concurrency { get; set; }
    /// <summary>What the model does, e.g. <c>text-to-image</c>.</summary>
    public string Kind { get; set; } = "text-to-image";
    /// <summary>Folder of the model files, relative to the content root unless absolute.</summary>
    public string Path { get; set; } = "";
    /// <summary>The size the model makes before the finishing step; 0 = what the provider or the model's files say.</summary>
    public int NativeWidth { get; set; }
    public int NativeHeight { get; set; }
    /// <summary>Credit price of one image per offered tier: keys "1K", "2K", "4K".</summary>
    public Dictionary<string, int> Tiers { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public int MaxImages { get; set; } = 4;
    public bool AcceptsReferenceImage { get; set; }
    public int DefaultSteps { get; set; } = 20;
    public double DefaultGuidance { get; set; } = 5.0;
    public int MaxSteps { get; set; } = 100;
    /// <summary>Scheduler override (euler, euler-ancestral, ddim, lcm); empty = the model's own config.</summary>
    public string? Scheduler { get; set; }
    /// <summary>A run that takes longer than this fails with <c>provider_timeout</c>.</summary>
    public int TimeoutSeconds { get; set; } = 600;

    public bool Offers(SizeTier tier) => Tiers.ContainsKey(tier.Label());

    public int PriceOf(SizeTier tier) => Tiers.TryGetValue(tier.Label(), out var price) ? price : 0;

    public IEnumerable<SizeTier> OfferedTiers =>
        Enum.GetValues<SizeTier>().Where(Offers);
}
