using BananaLab.Core.Catalog;
using BananaLab.Core.Generation;

namespace BananaLab.Bench;

/// <summary>What every benchmark under tools/ needs; this one file is compiled into each of them.</summary>
internal static class BenchSupport
{
    /// <summary>The repository root (where BananaLab.sln is), found from the running tool's folder.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BananaLab.sln"))) return dir.FullName;
        throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }

    /// <summary>A TCP port free on 127.0.0.1 now (the OS picks it), for a benchmark's own loopback server.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The nearest-rank percentile of values sorted ascending; NaN for none.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>
/// Writes a tiny fixed PNG at once: a benchmark of the engine or the API, not of a model. Generations
/// wait for <see cref="Released"/>, which a benchmark can hold to fill the queue first.
/// </summary>
internal sealed class InstantGenerator : IImageGenerator
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static Task Released { get; set; } = Task.CompletedTask;

    public string Provider => "bench";

    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => GenerationCapabilities.Diffusion(1, model.MaxImages);

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        await Released;
        await using (var stream = output.Create(0)) await stream.WriteAsync(Png, cancellationToken);
        return new GenerationResult([new GeneratedImage(0, request.Width, request.Height)]);
    }
}
