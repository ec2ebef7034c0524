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
    public void ReuseFrom(GenerationTask task, ModelDefinition? model)
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
        Source = "studio",
    };
}

/// <summary>A checked reference upload: its bytes, its name and a small preview for the form.</summary>
public sealed record ReferenceImage(byte[] Data, string FileName, int Width, int Height, string PreviewDataUrl);
