using BananaLab.Core.Catalog;
using BananaLab.Core.Tasks;

namespace BananaLab.Core.Generation;

/// <summary>
/// Runs one model for one task. Registered as a keyed service under the catalog's provider name
/// (e.g. <c>onnx</c>); the worker picks the generator by the task's provider.
/// </summary>
public interface IImageGenerator
{
    Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress,
        IImageOutput output, CancellationToken cancellationToken);
}

public sealed record GenerationRequest(
    Guid TaskId,
    ModelDefinition Model,
    string Prompt,
    string? NegativePrompt,
    int Width,
    int Height,
    int ImageCount,
    long Seed,
    int Steps,
    double Guidance,
    OutputFormat OutputFormat,
    /// <summary>Absolute path of the reference image, or null for text-to-image.</summary>
    string? ReferenceImagePath,
    /// <summary>Image-to-image strength in [0, 1]: 0 keeps the reference, 1 ignores it.</summary>
    double ReferenceStrength);

public sealed record GenerationResult(IReadOnlyList<GeneratedImage> Images);

public sealed record GeneratedImage(int Index, int Width, int Height);

/// <summary>Progress of a running generation; previews are small encoded images (PNG).</summary>
public interface IGenerationProgress
{
    void Report(GenerationProgress progress);
}

public sealed record GenerationProgress(int Step, int TotalSteps, byte[]? PreviewPng = null)
{
    public int Percent => TotalSteps <= 0 ? 0 : Math.Clamp(Step * 100 / TotalSteps, 0, 100);
}

/// <summary>Where a generator writes its encoded images: straight into the task's files.</summary>
public interface IImageOutput
{
    Stream Create(int index);
}

/// <summary>A failure with a stable code and a message a user can read.</summary>
public class GenerationException(string code, string message, bool transient = false, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;
    public bool Transient { get; } = transient;
}
