namespace BananaLab.Core.Tasks;

/// <summary>What every entry point (studio, native API, each dialect) hands to <see cref="TaskService"/>; checked by <see cref="SubmissionValidator"/>.</summary>
public sealed record SubmitTaskRequest
{
    public string? ModelId { get; init; }
    public string? Prompt { get; init; }
    public string? NegativePrompt { get; init; }
    /// <summary>"1K", "2K" or "4K"; ignored when <see cref="Width"/> and <see cref="Height"/> are given.</summary>
    public string? Size { get; init; }
    public string? AspectRatio { get; init; }
    /// <summary>Exact output size in pixels (64..4096), priced at the tier that covers the longest edge.</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? ImageCount { get; init; }
    public long? Seed { get; init; }
    public int? Steps { get; init; }
    public double? Guidance { get; init; }
    public string? OutputFormat { get; init; }
    public ReferenceImageUpload? ReferenceImage { get; init; }
    public double? ReferenceStrength { get; init; }
    /// <summary>"cover" (the default) or "contain": how a reference of another aspect is framed (<see cref="Images.ReferenceFit"/>).</summary>
    public string? ReferenceFit { get; init; }
    /// <summary>
    /// A PNG the size of <see cref="ReferenceImage"/> whose fully transparent pixels (alpha 0) mark what to repaint; the rest
    /// of the reference is kept as it is (OpenAI's mask semantics, /v1/images/edits).
    /// </summary>
    public ReferenceImageUpload? MaskImage { get; init; }
    public string Source { get; init; } = "api";
    /// <summary>The caller's name for this item when submitted in a batch.</summary>
    public string? BatchKey { get; init; }
    public string? WebhookUrl { get; init; }
    public Webhooks.WebhookFormat WebhookFormat { get; init; }
}

public sealed record ReferenceImageUpload(byte[] Data, string? FileName = null);
