using BananaLab.Core.Tasks;

namespace BananaLab.Core.Catalog;

/// <summary>One entry of the <c>Models</c> section of appsettings.json; the section key is the model id.</summary>
public sealed class ModelDefinition
{
    public string Id { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>Which generator runs the model, e.g. <c>onnx</c>.</summary>
    public string Provider { get; set; } = "";
    /// <summary>What the model does, e.g. <c>text-to-image</c>.</summary>
    public string Kind { get; set; } = "text-to-image";
    /// <summary>Folder of the model files, relative to the content root unless absolute.</summary>
    public string Path { get; set; } = "";
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
    /// <summary>A run that takes longer than this is a provider timeout (retried, then failed).</summary>
    public int TimeoutSeconds { get; set; } = 600;

    public bool Offers(SizeTier tier) => Tiers.ContainsKey(tier.Label());

    public int PriceOf(SizeTier tier) => Tiers.TryGetValue(tier.Label(), out var price) ? price : 0;

    public IEnumerable<SizeTier> OfferedTiers =>
        Enum.GetValues<SizeTier>().Where(Offers);
}
