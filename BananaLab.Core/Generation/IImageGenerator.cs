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

/// <summary>
/// Progress of a running generation, reported at each phase change and denoising step; previews are small
/// encoded images (PNG). A generator reports <see cref="GenerationPhase.Denoising"/> steps, then for each
/// image <see cref="GenerationProgress.Upscaling"/> before it decodes and enlarges it and
/// <see cref="GenerationProgress.Encoding"/> before it encodes and writes it.
/// </summary>
public interface IGenerationProgress
{
    void Report(GenerationProgress progress);
}

/// <summary>
/// One report: denoising step <see cref="Step"/> of <see cref="TotalSteps"/>, or a finishing phase of image
/// <see cref="Image"/> (0-based) of <see cref="ImageCount"/>. Finishing reports carry no step count (0 of 0).
/// </summary>
public sealed record GenerationProgress(int Step, int TotalSteps, byte[]? PreviewPng = null)
{
    public GenerationPhase Phase { get; init; } = GenerationPhase.Denoising;
    public int Image { get; init; }
    public int ImageCount { get; init; }
    /// <summary>How much of this image's current finishing phase is done, 0–1 (upscaling reports it per tile; otherwise 0).</summary>
    public double PhaseFraction { get; init; }

    /// <summary>Percent of the denoising steps done (0–100); the task's weighted percent is <see cref="RunEstimate.PercentAt"/>.</summary>
    public int Percent => TotalSteps <= 0 ? 0 : Math.Clamp(Step * 100 / TotalSteps, 0, 100);

    /// <summary>
    /// Image <paramref name="image"/> (0-based) is being decoded, framed and enlarged to the requested size;
    /// <paramref name="fraction"/> of that work is done (0 as it starts).
    /// </summary>
    public static GenerationProgress Upscaling(int image, int imageCount, double fraction = 0) =>
        new(0, 0) { Phase = GenerationPhase.Upscaling, Image = image, ImageCount = imageCount, PhaseFraction = Math.Clamp(fraction, 0, 1) };

    /// <summary>Image <paramref name="image"/> (0-based) is about to be encoded and written to the task's output.</summary>
    public static GenerationProgress Encoding(int image, int imageCount) =>
        new(0, 0) { Phase = GenerationPhase.Encoding, Image = image, ImageCount = imageCount };
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

/// <summary>
/// The codes a generator raises in a <see cref="GenerationException"/>, stored on the task when its run fails;
/// their kinds are in <see cref="Errors.ErrorTypes"/>.
/// </summary>
public static class GenerationErrors
{
    /// <summary>A model's files are missing, corrupt or unreadable; the message names the file.</summary>
    public const string ModelUnavailable = "model_unavailable";
    /// <summary>The reference image passed the checks at submission but the model cannot decode it.</summary>
    public const string ReferenceImageUnreadable = "reference_image_unreadable";
}
