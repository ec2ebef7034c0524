using BananaLab.Core.Tasks;

namespace BananaLab.Core.Generation;

/// <summary>
/// What a model can take and give with its provider, as the provider's generator declares it
/// (<see cref="IImageGenerator.CapabilitiesFor"/>). Submission, pricing, <c>/api/v1/models</c> and the studio form read
/// these instead of assuming a diffusion model's parameters. Sizes are the product's tiers and aspect ratios either way:
/// the worker's finishing step brings whatever size a provider makes to the exact size asked for.
/// </summary>
public sealed record GenerationCapabilities
{
    /// <summary>The aspect ratios a tier size may be asked in, of <see cref="AspectRatio.Offered"/>.</summary>
    public IReadOnlyList<AspectRatio> AspectRatios { get; init; } = AspectRatio.Offered;

    /// <summary>Whether an exact width × height (64–4096 pixels) may be asked for instead of a tier and an aspect ratio.</summary>
    public bool ExactSizes { get; init; }

    /// <summary>Whether a seed may be given (the same seed and parameters then give the same image).</summary>
    public bool Seed { get; init; }

    /// <summary>Whether a number of denoising steps may be given.</summary>
    public bool Steps { get; init; }

    /// <summary>Whether a guidance scale (how closely to follow the prompt) may be given.</summary>
    public bool Guidance { get; init; }

    /// <summary>Whether a negative prompt (what the image should not contain) may be given.</summary>
    public bool NegativePrompt { get; init; }

    /// <summary>How many reference images one request may carry; 0 = text only.</summary>
    public int MaxReferenceImages { get; init; }

    /// <summary>Whether a mask (the part of a reference image to repaint) is accepted.</summary>
    public bool Masks { get; init; }

    /// <summary>Whether the provider reports its progress while it works (otherwise a task jumps from queued to done).</summary>
    public bool Progress { get; init; }

    /// <summary>Whether its progress reports carry preview images.</summary>
    public bool Previews { get; init; }

    /// <summary>The most images one request makes; a task asks for at most this many (and the catalog's <c>MaxImages</c>).</summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>A local diffusion model: any size, every parameter, progress with a preview at each step, batches.</summary>
    public static GenerationCapabilities Diffusion(int maxReferenceImages, int maxBatch) => new()
    {
        ExactSizes = true,
        Seed = true,
        Steps = true,
        Guidance = true,
        NegativePrompt = true,
        MaxReferenceImages = maxReferenceImages,
        Progress = true,
        Previews = true,
        MaxBatch = maxBatch,
    };

    /// <summary>What is wrong with a declaration, or null: a provider's mistake stops start-up instead of reaching users.</summary>
    public string? Problem()
    {
        if (AspectRatios.Count == 0 && !ExactSizes) return "it offers no aspect ratio and no exact sizes";
        if (AspectRatios.FirstOrDefault(r => !AspectRatio.Offered.Contains(r)) is { Width: > 0 } odd)
            return $"{odd} is not an aspect ratio the product offers ({string.Join(", ", AspectRatio.Offered)})";
        if (MaxBatch < 1) return "MaxBatch must be at least 1";
        if (MaxReferenceImages < 0) return "MaxReferenceImages cannot be negative";
        if (Masks && MaxReferenceImages == 0) return "masks need a reference image to apply to";
        if (Previews && !Progress) return "previews travel with progress reports";
        return null;
    }
}
