using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>The <c>onnx</c> provider: runs catalog models in the Stable Diffusion ONNX layout on this host.</summary>
public sealed class OnnxImageGenerator(StableDiffusionPipeline pipeline, StableDiffusionModelCache models) : IImageGenerator
{
    public string Provider => InferenceServiceCollectionExtensions.ProviderKey;

    /// <summary>
    /// Everything a diffusion model takes; a reference image, and a mask to repaint part of it (inpainting by blending
    /// latents, any model), where the catalog says the model has a VAE encoder for it.
    /// </summary>
    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) =>
        GenerationCapabilities.Diffusion(maxReferenceImages: model.AcceptsReferenceImage ? 1 : 0, maxBatch: model.MaxImages)
            with { Masks = model.AcceptsReferenceImage };

    /// <summary>
    /// The prompt's tokens under the model's own CLIP tokenizer, and the model's limit (<see cref="StableDiffusionModel.PromptTokenLimit"/>:
    /// 75 for a fixed 77-token context, null where long prompts are chunked). Null when the model folder does not load (the
    /// model is then unavailable, which submission says by itself).
    /// </summary>
    public PromptTokens? CountPromptTokens(ModelDefinition model, string prompt)
    {
        try
        {
            var loaded = models.Get(model);
            return new PromptTokens(loaded.Tokenizer.Encode(prompt).Count, loaded.PromptTokenLimit);
        }
        catch (GenerationException)
        {
            return null;
        }
    }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        if (request.Width is < 1 or > 8192 || request.Height is < 1 or > 8192)
            throw new ArgumentOutOfRangeException(nameof(request), $"{request.Width}x{request.Height} is not a size this generator makes.");
        if (request.ImageCount < 1) throw new ArgumentOutOfRangeException(nameof(request), "at least one image");
        // The denoising loop is CPU/GPU-bound, synchronous and takes seconds: give it a thread of its own
        // rather than a thread-pool thread, which the web host's requests and Blazor circuits need (on a
        // 2-core machine the pool starts with only two, and studio updates stalled while a run held one).
        return Task.Factory.StartNew(() => pipeline.Generate(request, progress, output, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
