using BananaLab.Core.Generation;
using BananaLab.Worker.Finishing;
using BananaLab.Worker.Inference.Runtime;
using BananaLab.Worker.Inference.StableDiffusion;
using BananaLab.Worker.Inference.Upscaling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Inference;

/// <summary>
/// The <c>onnx</c> generator followed by the worker's finishing step, composed without a host: how tools and tests run
/// the product's pipeline, request in, exact-size encoded images out.
/// </summary>
public sealed class LocalGeneration : IDisposable
{
    /// <param name="contentRoot">What relative model paths are resolved against.</param>
    /// <param name="upscalerPath">The x4 super-resolution model; a missing file means cubic resampling.</param>
    public LocalGeneration(string contentRoot, string upscalerPath, InferenceOptions? options = null, ILogger? logger = null)
    {
        var sessions = new OnnxSessionFactory(Options.Create(options ?? new InferenceOptions { ExecutionProvider = InferenceExecutionProvider.Cpu }));
        Models = new StableDiffusionModelCache(sessions, contentRoot);
        Upscaler = new SuperResolutionUpscaler(sessions, upscalerPath, upscalerPath, logger ?? NullLogger.Instance);
        Generator = new OnnxImageGenerator(new StableDiffusionPipeline(Models, logger ?? NullLogger.Instance), Models);
        Finisher = new ImageFinisher(Upscaler);
    }

    public StableDiffusionModelCache Models { get; }
    public SuperResolutionUpscaler Upscaler { get; }
    public OnnxImageGenerator Generator { get; }
    public ImageFinisher Finisher { get; }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IImageOutput output,
        CancellationToken cancellationToken) =>
        Finisher.GenerateAsync(Generator, request, progress, output, cancellationToken);

    /// <summary>Several requests in shared UNet calls (<see cref="ImageFinisher.GenerateBatch"/>); one task per member, in order.</summary>
    public IReadOnlyList<Task<GenerationResult>> GenerateBatch(
        IReadOnlyList<(GenerationRequest Request, IGenerationProgress Progress, IImageOutput Files, CancellationToken CancellationToken)> members) =>
        Finisher.GenerateBatch(Generator, members);

    public void Dispose()
    {
        Models.Dispose();
        Upscaler.Dispose();
    }
}
