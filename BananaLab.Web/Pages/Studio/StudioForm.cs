using BananaLab.Core.Catalog;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Pages.Studio;

/// <summary>What the studio form holds; turns into the same <see cref="SubmitTaskRequest"/> every API dialect builds.</summary>
public sealed class StudioForm
{
    public static readonly IReadOnlyList<string> AspectRatios = Core.Tasks.AspectRatio.Offered.Select(r => r.ToString()).ToArray();

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

    /// <summary>Picks a model and resets what depends on it (its default steps and guidance, a size it offers).</summary>
    public void UseModel(ModelDefinition model)
    {
        ModelId = model.Id;
        Steps = model.DefaultSteps;
        Guidance = model.DefaultGuidance;
        var offered = model.OfferedTiers.Select(t => t.Label()).ToList();
        if (!offered.Contains(Size) && offered.Count > 0) Size = offered[0];
        ImageCount = Math.Clamp(ImageCount, 1, model.MaxImages);
        if (!model.AcceptsReferenceImage) Reference = null;
    }

    /// <summary>"Reuse settings": the prompt and every parameter of an earlier task, with its exact seed.</summary>
    public void ReuseFrom(TaskSnapshot task, ModelDefinition? model)
    {
        if (model is not null) UseModel(model);
        Prompt = task.Prompt;
        NegativePrompt = task.NegativePrompt ?? "";
        Size = task.SizeTier.Label();
        AspectRatio = Core.Tasks.AspectRatio.Offered
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
        NegativePrompt = string.IsNullOrWhiteSpace(NegativePrompt) ? null : NegativePrompt,
        Size = Size,
        AspectRatio = AspectRatio,
        ImageCount = ImageCount,
        Seed = RandomSeed ? null : Seed,
        Steps = Steps,
        Guidance = Guidance,
        ReferenceImage = Reference is { } reference ? new ReferenceImageUpload(reference.Data, reference.FileName) : null,
        ReferenceStrength = Reference is null ? null : ReferenceStrength,
        Source = "studio",
    };

    /// <summary>The values a reload brings back (kept in the browser's local storage); the reference image stays out.</summary>
    public SavedStudioForm Save() => new(Prompt, NegativePrompt, ModelId, Size, AspectRatio, ImageCount, RandomSeed, Seed, Steps,
        Guidance, ReferenceStrength);

    /// <summary>Puts saved values back, each only where the catalog still allows it (a removed model keeps the current one).</summary>
    public void Restore(SavedStudioForm saved, ModelCatalog catalog)
    {
        if (catalog.Find(saved.ModelId) is { } model) UseModel(model);
        var current = catalog.Find(ModelId);
        Prompt = saved.Prompt ?? "";
        NegativePrompt = saved.NegativePrompt ?? "";
        if (current?.OfferedTiers.Any(t => t.Label() == saved.Size) == true) Size = saved.Size!;
        if (AspectRatios.Contains(saved.AspectRatio)) AspectRatio = saved.AspectRatio!;
        ImageCount = Math.Clamp(saved.ImageCount, 1, current?.MaxImages ?? 1);
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
