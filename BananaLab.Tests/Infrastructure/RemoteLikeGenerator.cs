using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using SkiaSharp;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// A test provider shaped like a remote image service: tier sizes in two aspect ratios only, no seed, steps, guidance,
/// negative prompt or reference image, no progress, one image a call. It answers with a 512×512 PNG of its own size,
/// which the worker's finishing step brings to the task's size and format.
/// </summary>
public sealed class RemoteLikeGenerator : IImageGenerator
{
    public const string Name = "remote-test";

    /// <summary>What it answers every request with.</summary>
    public static readonly byte[] Png = ScriptedGenerator.SolidPng(new SKColor(40, 160, 90), 512);

    public string Provider => Name;

    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => new() { AspectRatios = [AspectRatio.Square, new(16, 9)] };

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        var images = Enumerable.Range(0, request.ImageCount)
            .Select(i => output.Finish(i, () => new ProducedImage.Encoded(Png), cancellationToken)).ToList();
        return Task.FromResult(new GenerationResult(images));
    }
}
