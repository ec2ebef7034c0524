using BananaLab.Core.Catalog;
using BananaLab.Core.Tasks;

namespace BananaLab.Core.Generation;

/// <summary>
/// A provider: it names itself, says what each of its models can take and give, and runs one model for one task.
/// Registered with <see cref="ImageGeneratorServiceCollectionExtensions.AddImageGenerator{TGenerator}"/> in every process (web nodes read the
/// capabilities, workers run it), so construction must stay cheap: open models and connections on first use. A generator
/// makes its images at its own size and hands each to <see cref="IGenerationOutput.Finish"/>, the worker's shared
/// finishing step, which brings it to the task's exact size and format.
/// </summary>
public interface IImageGenerator
{
    /// <summary>The name catalog entries give as their <c>Models:*:Provider</c>, e.g. <c>onnx</c>.</summary>
    string Provider { get; }

    /// <summary>What <paramref name="model"/> (a catalog entry of this provider) can take and give.</summary>
    GenerationCapabilities CapabilitiesFor(ModelDefinition model);

    /// <summary>
    /// Whether the provider's models run elsewhere (a remote service or server), so that waiting on them costs this machine
    /// nothing: a worker then runs them in a pool of their own instead of the local models' <c>Worker:Concurrency</c> slots.
    /// </summary>
    bool IsRemote => false;

    /// <summary>
    /// How many tasks of one model a worker runs at once when its catalog entry sets no <c>Concurrency</c>: a remote
    /// service's calls wait on the network (e.g. 8); a server that works on one job at a time answers 1. Local models
    /// (<see cref="IsRemote"/> false) share <c>Worker:Concurrency</c> instead.
    /// </summary>
    int DefaultConcurrency => 1;

    /// <summary>
    /// Why this installation cannot run <paramref name="model"/> at all, naming the setting to fix (e.g. a remote model
    /// without <c>Models:id:ApiKey</c>), or null. Such a model is listed, switched off, and refused at submission.
    /// </summary>
    string? UnavailableReason(ModelDefinition model) => null;

    /// <summary>
    /// The tokens of <paramref name="prompt"/> under <paramref name="model"/>'s own tokenizer and the most it reads, or
    /// null when the provider cannot count them (a remote service). Must stay cheap: submission and the studio's live
    /// count call it, in processes that may never run the model.
    /// </summary>
    PromptTokens? CountPromptTokens(ModelDefinition model, string prompt) => null;

    Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress,
        IGenerationOutput output, CancellationToken cancellationToken);
}

/// <summary>
/// A provider that can run the requests of several tasks in shared model calls (adaptive batching across tasks, issue 17;
/// BentoML's adaptive batching). The worker claims compatible tasks together (<see cref="Tasks.BatchClaim"/>) and hands
/// them to <see cref="GenerateBatch"/>; each task keeps its own seed, progress, cancellation, failure and settlement.
/// </summary>
public interface IBatchingImageGenerator : IImageGenerator
{
    /// <summary>
    /// Whether tasks of <paramref name="model"/> may share calls: false where the model's graph has a fixed batch axis or
    /// cannot be read (its tasks then run one at a time, and fail with the model's own error).
    /// </summary>
    bool SharesRuns(ModelDefinition model);

    /// <summary>
    /// Runs <paramref name="members"/> together. They have the same model and step count (<see cref="Tasks.BatchClaim"/>);
    /// each member's images are byte-identical to a run of its request alone. Returns one task per member, in order, each
    /// completing as soon as that member's images are written: with its result, with its own failure, or canceled when its
    /// token fired (it then leaves at the next denoising step and the others go on).
    /// </summary>
    IReadOnlyList<Task<GenerationResult>> GenerateBatch(IReadOnlyList<BatchMember> members);
}

/// <summary>One task's part of a shared run: its request, where its progress and images go, and its own cancellation.</summary>
public sealed record BatchMember(GenerationRequest Request, IGenerationProgress Progress, IGenerationOutput Output,
    CancellationToken CancellationToken);

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
    double ReferenceStrength)
{
    /// <summary>
    /// Absolute path of the reference's mask (a PNG of its size), or null: its fully transparent pixels are repainted and
    /// the rest of the reference is kept in the output (inpainting; OpenAI's mask semantics).
    /// </summary>
    public string? MaskImagePath { get; init; }

    /// <summary>How a reference of another aspect is framed to the output's: crop to cover (default) or pad to contain.</summary>
    public Images.ReferenceFit ReferenceFit { get; init; }
}

public sealed record GenerationResult(IReadOnlyList<GeneratedImage> Images);

public sealed record GeneratedImage(int Index, int Width, int Height);

/// <summary>
/// Progress of a running generation, reported at each phase change and denoising step; previews are small
/// encoded images (PNG). A generator reports <see cref="GenerationPhase.Denoising"/> steps; then, for each
/// image, <see cref="IGenerationOutput.Finish"/> reports <see cref="GenerationProgress.Upscaling"/> before it makes and
/// enlarges it and <see cref="GenerationProgress.Encoding"/> before it encodes and writes it.
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

/// <summary>Where encoded images are written: straight into the task's files.</summary>
public interface IImageOutput
{
    Stream Create(int index);
}

/// <summary>
/// Where a generator delivers its images. <see cref="Finish"/> is the worker's shared finishing step; a generator whose
/// files are already final (a test double, a benchmark) may write them with <see cref="IImageOutput.Create"/> instead.
/// </summary>
public interface IGenerationOutput : IImageOutput
{
    /// <summary>
    /// Brings image <paramref name="index"/> (0-based), as the provider made it, to the task's exact size and format and writes
    /// it: cover-crop to the requested aspect ratio, enlarge (super-resolution) or resample to the exact size, encode. It reports
    /// the image's upscaling phase as it starts and as its tiles are done, then its encoding phase. <paramref name="produce"/>
    /// runs inside the upscaling phase, so making the image (decoding latents, reading a download) counts there.
    /// Runs on the caller's thread and takes CPU time (seconds at 4K).
    /// </summary>
    GeneratedImage Finish(int index, Func<ProducedImage> produce, CancellationToken cancellationToken);
}

/// <summary>An image as a provider made it, before the worker's finishing step.</summary>
public abstract record ProducedImage
{
    private ProducedImage()
    {
    }

    /// <summary>Opaque 8-bit RGBA pixels, row by row (what a local model decodes to).</summary>
    public sealed record Pixels(int Width, int Height, byte[] Rgba) : ProducedImage;

    /// <summary>A PNG, JPEG or WebP file, as a remote provider returns it; stored as it is when it already has the task's size and format.</summary>
    public sealed record Encoded(byte[] Data) : ProducedImage;
}

/// <summary>
/// A failure with a stable code (<see cref="GenerationErrors"/>) and a message a user can read; never a secret, never a
/// provider's raw response. A transient one is retried (after <see cref="RetryAfter"/> when the provider asked for a
/// delay) up to <c>Worker:MaxAttempts</c>.
/// </summary>
public class GenerationException(string code, string message, bool transient = false, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;
    public bool Transient { get; } = transient;
    /// <summary>How long the provider asked us to wait before trying again (HTTP <c>Retry-After</c>), if it did.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// The provider refused the request for its content (<see cref="GenerationErrors.BlockedByProvider"/>). The worker records
/// a moderation decision with <see cref="ProviderReason"/> for the admins' review; the user sees our neutral message.
/// </summary>
public sealed class ProviderRefusedException(string providerReason, Exception? inner = null)
    : GenerationException(GenerationErrors.BlockedByProvider, Moderation.ModerationDecision.NeutralMessage, transient: false, inner)
{
    /// <summary>What the provider said (its error code and message, shortened), for admins only.</summary>
    public string ProviderReason { get; } = providerReason;
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
    /// <summary>The provider refused the prompt or image for its content (<see cref="ProviderRefusedException"/>); not retried.</summary>
    public const string BlockedByProvider = "blocked_by_provider";
    /// <summary>
    /// The provider refused our credentials (401/403): not retried, and the model is switched off until its settings change
    /// or an admin retries it.
    /// </summary>
    public const string ProviderAuthFailed = "provider_auth_failed";
    /// <summary>The provider is over its rate limit for us (429); transient, retried after its <c>Retry-After</c>.</summary>
    public const string ProviderRateLimited = "provider_rate_limited";
    /// <summary>The provider answered 5xx, or could not be reached; transient, retried with backoff.</summary>
    public const string ProviderError = "provider_error";
}
