using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Pages.Studio;

/// <summary>What the studio form holds; turns into the same <see cref="SubmitTaskRequest"/> every API dialect builds.</summary>
public sealed class StudioForm
{
    public string Prompt { get; set; } = "";
    public string NegativePrompt { get; set; } = "";
    public string? ModelId { get; set; }
    public string Size { get; set; } = "1K";
    public string AspectRatio { get; set; } = "1:1";
    public int ImageCount { get; set; } = 1;
    public bool RandomSeed { get; set; } = true;
    public long Seed { get; set; }
    public int Steps { get; set; } = 20;
    public double Guidance { get; set; } = 5;
    public ReferenceImage? Reference { get; set; }
    /// <summary>Image-to-image strength in [0.05, 1]: how far from the reference the image may move (the API's default).</summary>
    public double ReferenceStrength { get; set; } = DefaultReferenceStrength;

    public const double DefaultReferenceStrength = 0.75;

    /// <summary>Sends <c>referenceFit: contain</c> (the whole reference, padded) instead of the default cover (cropped).</summary>
    public bool KeepWholeReference { get; set; }

    /// <summary>
    /// What the chosen model takes, as its provider declares it: the form shows (and sends) only those fields. Null before a
    /// model is chosen, or for one whose provider this installation does not have.
    /// </summary>
    public GenerationCapabilities? Takes { get; private set; }

    /// <summary>The most images the chosen model makes in one task.</summary>
    public int MaxImages { get; private set; } = 1;

    /// <summary>The aspect ratios the chosen model offers.</summary>
    public IReadOnlyList<string> OfferedAspectRatios => Takes?.AspectRatios.Select(r => r.ToString()).ToList() ?? [];

    /// <summary>The size tiers the chosen model (in compare mode: every chosen model) offers.</summary>
    public IReadOnlyList<SizeTier> OfferedTiers { get; private set; } = [];

    /// <summary>
    /// Compare mode: the models the same prompt and settings go to (2 to 4 to generate). The form then offers only what
    /// every one of them takes, so no setting is silently dropped for one model.
    /// </summary>
    public IReadOnlyList<string> CompareModelIds { get; private set; } = [];

    /// <summary>
    /// Picks a model and resets what depends on it: its default steps and guidance, a size and an aspect ratio it offers,
    /// an image count it makes, and no reference image if it takes none.
    /// </summary>
    public void UseModel(ModelDefinition model, GenerationOffers offers)
    {
        ModelId = model.Id;
        Steps = model.DefaultSteps;
        Guidance = model.DefaultGuidance;
        Fit(offers.CapabilitiesOf(model), offers.MaxImages(model), [.. model.OfferedTiers]);
    }

    /// <summary>
    /// Compare mode's models: the form takes what all of them take (a setting one of them lacks is hidden and not sent),
    /// the image count all of them make, the sizes all of them offer. Steps and guidance start at the first one's defaults
    /// when all of them share those defaults; when they differ (banana-nano's 20 steps with guidance 3 beside
    /// banana-nano-turbo's 4 without), the fields are hidden and not sent, so each model runs at its own.
    /// </summary>
    public void UseModels(IReadOnlyList<ModelDefinition> models, GenerationOffers offers)
    {
        CompareModelIds = models.Select(m => m.Id).ToList();
        if (models.Count == 0) return;
        Steps = models[0].DefaultSteps;
        Guidance = models[0].DefaultGuidance;
        var capabilities = models.Select(offers.CapabilitiesOf).ToList();
        var common = capabilities.Any(c => c is null) ? null : capabilities.Aggregate(Common)!;
        if (common is not null && models.Any(m => m.DefaultSteps != Steps || m.DefaultGuidance != Guidance))
            common = common with { Steps = false, Guidance = false };
        Fit(common, models.Min(offers.MaxImages), [.. models.Select(m => m.OfferedTiers.AsEnumerable()).Aggregate((a, b) => a.Intersect(b))]);
    }

    /// <summary>Keeps the size, aspect ratio, count and reference within what the chosen model or models take.</summary>
    private void Fit(GenerationCapabilities? takes, int maxImages, IReadOnlyList<SizeTier> tiers)
    {
        Takes = takes;
        MaxImages = maxImages;
        OfferedTiers = tiers;
        var offered = tiers.Select(t => t.Label()).ToList();
        if (!offered.Contains(Size) && offered.Count > 0) Size = offered[0];
        if (!OfferedAspectRatios.Contains(AspectRatio) && OfferedAspectRatios.Count > 0) AspectRatio = OfferedAspectRatios[0];
        ImageCount = Math.Clamp(ImageCount, 1, MaxImages);
        if (Takes?.MaxReferenceImages is not > 0) Reference = null;
    }

    /// <summary>What two models both take.</summary>
    private static GenerationCapabilities Common(GenerationCapabilities? a, GenerationCapabilities? b) => new()
    {
        AspectRatios = [.. a!.AspectRatios.Intersect(b!.AspectRatios)],
        ExactSizes = a.ExactSizes && b.ExactSizes,
        Seed = a.Seed && b.Seed,
        Steps = a.Steps && b.Steps,
        Guidance = a.Guidance && b.Guidance,
        NegativePrompt = a.NegativePrompt && b.NegativePrompt,
        MaxReferenceImages = Math.Min(a.MaxReferenceImages, b.MaxReferenceImages),
        Masks = a.Masks && b.Masks,
        Progress = a.Progress && b.Progress,
        Previews = a.Previews && b.Previews,
        MaxBatch = Math.Min(a.MaxBatch, b.MaxBatch),
    };

    /// <summary>"Reuse settings": the prompt and every parameter of an earlier task, with its exact seed.</summary>
    public void ReuseFrom(TaskSnapshot task, ModelDefinition? model, GenerationOffers offers)
    {
        if (model is not null) UseModel(model, offers);
        Prompt = task.Prompt;
        NegativePrompt = task.NegativePrompt ?? "";
        Size = task.SizeTier.Label();
        AspectRatio = (Takes?.AspectRatios is { Count: > 0 } ratios ? ratios : Core.Tasks.AspectRatio.Offered)
            .MinBy(r => Math.Abs((double)r.Width / r.Height - (double)task.Width / task.Height)).ToString();
        ImageCount = task.ImageCount;
        RandomSeed = false;
        Seed = task.Seed;
        Steps = task.Steps;
        Guidance = task.Guidance;
    }

    public SubmitTaskRequest ToRequest() => new()
    {
        ModelId = ModelId,
        Prompt = Prompt,
        NegativePrompt = string.IsNullOrWhiteSpace(NegativePrompt) || Takes?.NegativePrompt != true ? null : NegativePrompt,
        Size = Size,
        AspectRatio = AspectRatio,
        ImageCount = ImageCount,
        Seed = RandomSeed || Takes?.Seed != true ? null : Seed,
        Steps = Takes?.Steps == true ? Steps : null,
        Guidance = Takes?.Guidance == true ? Guidance : null,
        ReferenceImage = Reference is { } reference ? new ReferenceImageUpload(reference.Data, reference.FileName) : null,
        ReferenceStrength = Reference is null ? null : ReferenceStrength,
        ReferenceFit = Reference is not null && KeepWholeReference ? "contain" : null,
        Source = "studio",
    };

    /// <summary>The values a reload brings back (kept in the browser's local storage); the reference image stays out.</summary>
    public SavedStudioForm Save() => new(Prompt, NegativePrompt, ModelId, Size, AspectRatio, ImageCount, RandomSeed, Seed, Steps,
        Guidance, ReferenceStrength);

    /// <summary>Puts saved values back, each only where the catalog still allows it (a removed model keeps the current one).</summary>
    public void Restore(SavedStudioForm saved, ModelCatalog catalog, GenerationOffers offers)
    {
        if (catalog.Find(saved.ModelId) is { } model) UseModel(model, offers);
        var current = catalog.Find(ModelId);
        Prompt = saved.Prompt ?? "";
        NegativePrompt = saved.NegativePrompt ?? "";
        if (current?.OfferedTiers.Any(t => t.Label() == saved.Size) == true) Size = saved.Size!;
        if (OfferedAspectRatios.Contains(saved.AspectRatio)) AspectRatio = saved.AspectRatio!;
        ImageCount = Math.Clamp(saved.ImageCount, 1, current is null ? 1 : MaxImages);
        RandomSeed = saved.RandomSeed;
        Seed = Math.Clamp(saved.Seed, 0, uint.MaxValue);
        Steps = Math.Clamp(saved.Steps, 1, current?.MaxSteps ?? 100);
        Guidance = double.IsFinite(saved.Guidance) ? Math.Clamp(saved.Guidance, 0, 30) : Guidance;
        ReferenceStrength = double.IsFinite(saved.ReferenceStrength) ? Math.Clamp(saved.ReferenceStrength, 0.05, 1) : DefaultReferenceStrength;
    }
}

/// <summary>The studio form as saved between visits (JSON in the browser's local storage).</summary>
public sealed record SavedStudioForm(string? Prompt, string? NegativePrompt, string? ModelId, string? Size, string? AspectRatio,
    int ImageCount, bool RandomSeed, long Seed, int Steps, double Guidance, double ReferenceStrength);

/// <summary>A checked reference upload: its bytes, its name and a small preview for the form.</summary>
public sealed record ReferenceImage(byte[] Data, string FileName, int Width, int Height, string PreviewDataUrl);
