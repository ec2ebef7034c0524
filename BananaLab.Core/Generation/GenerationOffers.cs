using BananaLab.Core.Catalog;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;

namespace BananaLab.Core.Generation;

/// <summary>
/// What a catalog model offers a request, from its provider's <see cref="GenerationCapabilities"/> and whether a worker can
/// run it now (<see cref="ModelAvailability"/>): the checks pricing and submission make before a task exists, and the
/// parameters a task stores. <see cref="TaskService"/> calls these, so every entry point (the studio, the native API, each
/// dialect) gets the same answers. A process without the model's provider (a tool over the core services alone) cannot
/// read its capabilities: it checks none and stores what it was given, and whether a worker runs the model still decides.
/// </summary>
public sealed class GenerationOffers(GenerationProviders providers, ModelAvailability availability)
{
    /// <summary>What the model can take and give, or null when this build has no generator for its provider.</summary>
    public GenerationCapabilities? CapabilitiesOf(ModelDefinition model) => providers.CapabilitiesOf(model);

    /// <summary>The most images one task may ask for: the catalog's <c>MaxImages</c>, within what one request of the provider makes.</summary>
    public int MaxImages(ModelDefinition model) => Math.Min(model.MaxImages, CapabilitiesOf(model)?.MaxBatch ?? model.MaxImages);

    /// <summary>
    /// Why a priced request cannot be made, or null: an exact size (<paramref name="exactSize"/>) or an aspect ratio the
    /// provider does not make, more images than one of its requests makes.
    /// </summary>
    public TaskError? CheckQuote(ModelDefinition model, bool exactSize, string? aspectRatio, int imageCount)
    {
        if (CapabilitiesOf(model) is not { } capabilities) return null;
        if (exactSize && !capabilities.ExactSizes) return TaskErrors.ExactSizeNotOffered(model.Id);
        if (!exactSize && AspectRatio.TryParse(aspectRatio, out var ratio) && !capabilities.AspectRatios.Contains(ratio))
            return TaskErrors.AspectRatioNotOffered(model.Id, ratio.ToString(), capabilities.AspectRatios.Select(r => r.ToString()));
        if (imageCount > MaxImages(model)) return TaskErrors.CountOutOfRange(MaxImages(model));
        return null;
    }

    /// <summary>Why no task of the model may be queued now (<c>model_unavailable</c>: no worker can run it), or null.</summary>
    public async Task<TaskError?> CheckAvailableAsync(ModelDefinition model, CancellationToken cancellationToken)
    {
        var serving = await availability.OfAsync(model, cancellationToken);
        return serving.Available ? null : TaskErrors.ModelUnavailable(model.Id, serving.Reason);
    }

    /// <summary>Why a request gives a parameter its model does not take (seed, steps, guidance, negative prompt, reference image, mask), or null.</summary>
    public TaskError? CheckParameters(ModelDefinition model, SubmitTaskRequest request)
    {
        if (CapabilitiesOf(model) is not { } capabilities) return null;
        if (request.Seed is not null && !capabilities.Seed) return TaskErrors.SeedNotTaken(model.Id);
        if (request.Steps is not null && !capabilities.Steps) return TaskErrors.StepsNotTaken(model.Id);
        if (request.Guidance is not null && !capabilities.Guidance) return TaskErrors.GuidanceNotTaken(model.Id);
        if (!string.IsNullOrWhiteSpace(request.NegativePrompt) && !capabilities.NegativePrompt) return TaskErrors.NegativePromptNotAccepted(model.Id);
        if (request.ReferenceImage is not null && capabilities.MaxReferenceImages == 0) return TaskErrors.ReferenceNotAccepted(model.Id);
        if (request.MaskImage is not null && !capabilities.Masks) return TaskErrors.InvalidMask($"The model '{model.Id}' does not take a mask.");
        return null;
    }

    /// <summary>The tokens of a prompt under the model's tokenizer and its limit, or null when its provider cannot count them.</summary>
    public PromptTokens? CountPromptTokens(ModelDefinition model, string prompt) =>
        providers.Find(model.Provider)?.CountPromptTokens(model, prompt);

    /// <summary>
    /// Why the prompt or the negative prompt is longer than the model reads (<c>prompt_too_long_for_model</c>, naming both
    /// counts), or null. A model with a fixed text context would silently drop the words past it; refusing before the
    /// task exists lets the user shorten the prompt, uncharged.
    /// </summary>
    public TaskError? CheckPromptTokens(ModelDefinition model, SubmitTaskRequest request)
    {
        foreach (var (text, field) in new[] { (request.Prompt, "prompt"), (request.NegativePrompt, "negative prompt") })
            if (text is { Length: > 0 } && CountPromptTokens(model, text) is { Exceeds: true } tokens)
                return TaskErrors.PromptTooLongForModel(model.Id, field, tokens.Count, tokens.Limit!.Value);
        return null;
    }

    /// <summary>
    /// The seed, steps and guidance a task of this model stores: the request's or the catalog's defaults (a random seed)
    /// where the provider takes them, 0 where it does not.
    /// </summary>
    public TaskParameters Parameters(ModelDefinition model, SubmitTaskRequest request)
    {
        var capabilities = CapabilitiesOf(model);
        return new TaskParameters(
            capabilities?.Seed != false ? request.Seed ?? Random.Shared.NextInt64(0, uint.MaxValue + 1L) : 0,
            capabilities?.Steps != false ? request.Steps ?? model.DefaultSteps : 0,
            capabilities?.Guidance != false ? request.Guidance ?? model.DefaultGuidance : 0);
    }
}

/// <summary>The generation parameters a task stores (0 for those its model does not take).</summary>
public readonly record struct TaskParameters(long Seed, int Steps, double Guidance);
