using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;

namespace BananaLab.Worker.Inference.StableDiffusion;

/// <summary>The <c>onnx</c> provider: runs catalog models in the Stable Diffusion ONNX layout on this host.</summary>
public sealed class OnnxImageGenerator(StableDiffusionPipeline pipeline, StableDiffusionModelCache models) : IBatchingImageGenerator
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

    /// <summary>Where the UNet's batch axis is open (<see cref="StableDiffusionModel.HasDynamicBatch"/>); false when the model does not load.</summary>
    public bool SharesRuns(ModelDefinition model)
    {
        try
        {
            return models.Get(model).HasDynamicBatch;
        }
        catch (GenerationException)
        {
            return false;
        }
    }

    /// <summary>Runs the members on a thread of its own (see <see cref="GenerateAsync"/>), through <see cref="StableDiffusionPipeline.Run"/>.</summary>
    public IReadOnlyList<Task<GenerationResult>> GenerateBatch(IReadOnlyList<BatchMember> members)
    {
        foreach (var member in members) CheckRequest(member.Request);
        var completions = members.Select(_ => new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        void Complete(int index, GenerationResult? result, Exception? failure)
        {
            if (failure is OperationCanceledException canceled) completions[index].TrySetCanceled(canceled.CancellationToken);
            else if (failure is not null) completions[index].TrySetException(failure);
            else completions[index].TrySetResult(result!);
        }
        Task.Factory.StartNew(() =>
        {
            try
            {
                pipeline.Run(members, Complete);
            }
            catch (Exception e)
            {
                for (var i = 0; i < members.Count; i++) completions[i].TrySetException(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return completions.Select(c => c.Task).ToArray();
    }

    private static void CheckRequest(GenerationRequest request)
    {
        if (request.Width is < 1 or > 8192 || request.Height is < 1 or > 8192)
            throw new ArgumentOutOfRangeException(nameof(request), $"{request.Width}x{request.Height} is not a size this generator makes.");
        if (request.ImageCount < 1) throw new ArgumentOutOfRangeException(nameof(request), "at least one image");
    }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        CheckRequest(request);
        // The denoising loop is CPU/GPU-bound, synchronous and takes seconds: give it a thread of its own
        // rather than a thread-pool thread, which the web host's requests and Blazor circuits need (on a
        // 2-core machine the pool starts with only two, and studio updates stalled while a run held one).
        return Task.Factory.StartNew(() => pipeline.Generate(request, progress, output, cancellationToken), cancellationToken,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
