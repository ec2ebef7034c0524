using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// A test-only generator (provider "test") whose behaviour the prompt chooses, so engine tests can drive
/// every path over real HTTP and real SQLite. It reports its phases as a real generator does: the steps, then
/// upscaling and encoding of each image. "[fail]" fails for good after its steps, "[flaky:N]" fails transiently on
/// the first N attempts, "[slow:MS]" waits MS per step, "[empty]" returns no image, "[red]" writes a solid red image, "[steps:N]" sets the step count,
/// "[gate:NAME]" waits before its first step until the test calls <see cref="OpenGate"/> with NAME.
/// </summary>
public sealed partial class ScriptedGenerator : IImageGenerator
{
    public const string Provider = "test";

    string IImageGenerator.Provider => Provider;

    /// <summary>A diffusion model's capabilities, so the studio and the API treat the test models as they treat banana-nano.</summary>
    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) =>
        GenerationCapabilities.Diffusion(maxReferenceImages: model.AcceptsReferenceImage ? 1 : 0, maxBatch: model.MaxImages)
            with { Masks = model.AcceptsReferenceImage };

    /// <summary>A valid 1×1 PNG; the test generator's output only has to be real bytes with a real hash.</summary>
    public static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    /// <summary>A solid red 16×16 PNG ("[red]" outputs), which the test image classifier refuses.</summary>
    public static readonly byte[] RedPng = SolidPng(new SkiaSharp.SKColor(230, 20, 20));

    public static byte[] SolidPng(SkiaSharp.SKColor color, int edge = 16)
    {
        using var bitmap = new SkiaSharp.SKBitmap(edge, edge);
        bitmap.Erase(color);
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private readonly ConcurrentDictionary<Guid, int> _attempts = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>Lets the runs waiting on "[gate:<paramref name="name"/>]" (and any later ones) go on.</summary>
    public static void OpenGate(string name) => Gate(name).TrySetResult();

    private static TaskCompletionSource Gate(string name) =>
        Gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress,
        IGenerationOutput output, CancellationToken cancellationToken)
    {
        var attempt = _attempts.AddOrUpdate(request.TaskId, 1, (_, n) => n + 1);
        var prompt = request.Prompt;
        if (Directive("flaky").Match(prompt) is { Success: true } flaky && attempt <= int.Parse(flaky.Groups[1].Value))
            throw new GenerationException("provider_timeout", $"Transient test failure on attempt {attempt}.", transient: true);

        var steps = Directive("steps").Match(prompt) is { Success: true } s ? int.Parse(s.Groups[1].Value) : 2;
        var delay = Directive("slow").Match(prompt) is { Success: true } slow ? int.Parse(slow.Groups[1].Value) : 0;
        if (new Regex(@"\[gate:(\w+)\]").Match(prompt) is { Success: true } gate)
            await Gate(gate.Groups[1].Value).Task.WaitAsync(cancellationToken);
        for (var step = 1; step <= steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (delay > 0) await Task.Delay(delay, cancellationToken);
            progress.Report(new GenerationProgress(step, steps, TinyPng));
        }
        if (prompt.Contains("[fail]")) throw new GenerationException("generation_failed", "The test model refused.");
        if (prompt.Contains("[empty]")) return new GenerationResult([]);

        var images = new List<GeneratedImage>();
        for (var i = 0; i < request.ImageCount; i++)
        {
            progress.Report(GenerationProgress.Upscaling(i, request.ImageCount));
            progress.Report(GenerationProgress.Encoding(i, request.ImageCount));
            await using (var stream = output.Create(i))
                await stream.WriteAsync(prompt.Contains("[red]") ? RedPng : TinyPng, cancellationToken);
            images.Add(new GeneratedImage(i, request.Width, request.Height));
        }
        return new GenerationResult(images);
    }

    private static Regex Directive(string name) => new($@"\[{name}:(\d+)\]");
}
