// Remote-provider benchmark: host A's model remote-bench (provider openai) is host B's bench-model, an instant generator,
// reached through B's OpenAI dialect on loopback. Clients make synchronous OpenAI calls (POST /v1/images/generations,
// b64_json, no size: the 1K square, a 1024x1024 PNG; A's model makes tier sizes only, so A refuses an exact size) at 1, 8 and 32 in flight, to A and, in the same run, to B directly; A's added latency is its
// percentile minus B's, its rate a share of B's. Both hosts, the clients and both SQLite files share this machine.
//   dotnet run -c Release --project tools/bench-providers [-- --seconds 10]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Bench;
using BananaLab.Core.Catalog;
using BananaLab.Core.Data;
using BananaLab.Core.Generation;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace BananaLab.Bench.Providers;

public static class ProvidersBenchmark
{
    private static readonly int[] InFlight = [1, 8, 32];

    public static async Task Main(string[] args)
    {
        var seconds = args.SkipWhile(a => a != "--seconds").Skip(1).Select(int.Parse).FirstOrDefault(10);
        var root = Path.Combine(Path.GetTempPath(), "bananalab-bench-providers", Guid.NewGuid().ToString("N"));

        await using var b = new Host(Path.Combine(root, "b"), new Dictionary<string, string>
        {
            ["Models:bench-model:DisplayName"] = "Instant model", ["Models:bench-model:Provider"] = ExactSizeGenerator.Name,
            ["Models:bench-model:Tiers:1K"] = "1",
        });
        var bUrl = b.Start();
        var (aOnB, aOnBKey) = await b.UserAsync();
        var (_, bKey) = await b.UserAsync();

        await using var a = new Host(Path.Combine(root, "a"), new Dictionary<string, string>
        {
            ["Models:remote-bench:DisplayName"] = "Instant model on host B", ["Models:remote-bench:Provider"] = "openai",
            ["Models:remote-bench:Endpoint"] = $"{bUrl}/v1", ["Models:remote-bench:RemoteModel"] = "bench-model",
            ["Models:remote-bench:ApiKey"] = aOnBKey, ["Models:remote-bench:Tiers:1K"] = "1", ["Models:remote-bench:TimeoutSeconds"] = "120",
            ["Models:remote-bench:Concurrency"] = "32", // a remote model's own pool (the provider's default is 8)
        });
        var aUrl = a.Start();
        var (aUser, aKey) = await a.UserAsync();

        Console.WriteLine($"BananaLab remote-provider benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {seconds} s a phase");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(2) };
        var direct = new Target("B directly", bUrl, bKey, "bench-model");
        var viaA = new Target("A → B (openai provider)", aUrl, aKey, "remote-bench");
        await RunAsync(http, direct, 1, TimeSpan.FromSeconds(2)); // warm-up: JIT, connections, the first tasks' caches
        await RunAsync(http, viaA, 1, TimeSpan.FromSeconds(2));

        Console.WriteLine();
        Console.WriteLine("| in flight | route | calls/s | p50 ms | p99 ms | errors | A's added p50 ms | A's added p99 ms | A's rate / B's |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var n in InFlight)
        {
            // B, A, B again: the baseline is the mean of the runs before and after A's, so a drift of the shared machine shows.
            var before = await RunAsync(http, direct, n, TimeSpan.FromSeconds(seconds));
            var through = await RunAsync(http, viaA, n, TimeSpan.FromSeconds(seconds));
            var after = await RunAsync(http, direct, n, TimeSpan.FromSeconds(seconds));
            var (p50, p99, rate) = ((before.P50 + after.P50) / 2, (before.P99 + after.P99) / 2, (before.Rate + after.Rate) / 2);
            foreach (var run in new[] { before, after })
                Console.WriteLine($"| {n} | {run.Route} | {run.Rate:F1} | {run.P50:F1} | {run.P99:F1} | {run.Errors} | | | |");
            Console.WriteLine($"| {n} | {through.Route} | {through.Rate:F1} | {through.P50:F1} | {through.P99:F1} | {through.Errors} | " +
                              $"{through.P50 - p50:F1} | {through.P99 - p99:F1} | {through.Rate / rate:P0} |");
        }
        Console.WriteLine("\nTarget: A adds <= 10 ms at p50 and reaches >= 80 % of B's direct rate.");

        // Where A's time goes, from both databases (every phase together): waiting for A's worker, A's run (the call to B and
        // storing its image), and inside that run B's own submit-to-finish.
        var aTasks = await a.TimesAsync(aUser.Id);
        var bTasks = await b.TimesAsync(aOnB.Id);
        Console.WriteLine($"\nA's tasks ({aTasks.Count}): queued → claimed p50 {Median(aTasks.Select(t => t.Queued))} ms, claimed → finished p50 " +
                          $"{Median(aTasks.Select(t => t.Run))} ms; B's tasks made by A's calls ({bTasks.Count}): created → finished p50 " +
                          $"{Median(bTasks.Select(t => t.Queued + t.Run))} ms");
        try { Directory.Delete(root, recursive: true); } catch (IOException) { }
    }

    private static string Median(IEnumerable<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return $"{BenchSupport.Percentile(sorted, 0.5):F1}";
    }

    private sealed record Target(string Route, string BaseUrl, string Key, string Model);

    private sealed record Run(string Route, double Rate, double P50, double P99, int Errors);

    /// <summary><paramref name="inFlight"/> clients, each making one synchronous call after another for <paramref name="duration"/>.</summary>
    private static async Task<Run> RunAsync(HttpClient http, Target target, int inFlight, TimeSpan duration)
    {
        var latencies = new ConcurrentBag<double>();
        var errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async client =>
        {
            for (var call = 0; clock.Elapsed < duration; call++)
            {
                // A prompt of its own: the dialect treats an identical call in flight as a retry of the first.
                using var request = new HttpRequestMessage(HttpMethod.Post, $"{target.BaseUrl}/v1/images/generations")
                {
                    Content = JsonContent.Create(new
                    {
                        model = target.Model, prompt = $"a lemon {client} {call} {Guid.NewGuid():N}", response_format = "b64_json",
                    }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Key);
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(request);
                    await response.Content.LoadIntoBufferAsync();
                    if (!response.IsSuccessStatusCode && Interlocked.Increment(ref errors) == 1)
                        Console.Error.WriteLine($"{target.Route}: first error {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new Run(target.Route, sorted.Length / clock.Elapsed.TotalSeconds, BenchSupport.Percentile(sorted, 0.5),
            BenchSupport.Percentile(sorted, 0.99), errors);
    }
}

/// <summary>The real host on a Kestrel loopback port in the Production environment, with the instant generator and no rate limits.</summary>
sealed class Host(string dataDirectory, IReadOnlyDictionary<string, string> models) : WebApplicationFactory<Program>
{
    /// <summary>Starts it; returns its base URL.</summary>
    public string Start()
    {
        var port = BenchSupport.FreePort();
        UseKestrel(port);
        StartServer();
        return $"http://127.0.0.1:{port}";
    }

    public async Task<(User User, string Key)> UserAsync()
    {
        var user = await Services.GetRequiredService<UserService>().CreateAsync($"bench-{Guid.NewGuid():N}@example.test", "Bench", UserRole.User,
            initialCredits: 100_000_000);
        return (user, (await Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "bench")).Secret);
    }

    /// <summary>Each finished task of the user: milliseconds from created to claimed, and from claimed to finished.</summary>
    public async Task<List<(double Queued, double Run)>> TimesAsync(Guid userId)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var tasks = await db.Tasks.AsNoTracking().Where(t => t.UserId == userId && t.FinishedAt != null && t.StartedAt != null)
            .Select(t => new { t.CreatedAt, t.StartedAt, t.FinishedAt }).ToListAsync();
        return tasks.Select(t => ((t.StartedAt!.Value - t.CreatedAt).TotalMilliseconds, (t.FinishedAt!.Value - t.StartedAt.Value).TotalMilliseconds)).ToList();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseContentRoot(BenchSupport.RepositoryRoot());
        var settings = new Dictionary<string, string>
        {
            ["Storage:DataDirectory"] = dataDirectory, ["Bootstrap:AdminEmail"] = "", ["RateLimits:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning", ["Worker:Concurrency"] = "32", ["Worker:PollIntervalMs"] = "100",
        };
        foreach (var (key, value) in models) settings[key] = value;
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services => services.AddImageGenerator<ExactSizeGenerator>());
    }
}

/// <summary>
/// Writes a PNG of the task's exact size at once (made once per size): a model that costs nothing, whose file the finishing step
/// of either host stores as it is, so the benchmark measures the hop from A to B and not an image.
/// </summary>
sealed class ExactSizeGenerator : IImageGenerator
{
    public const string Name = "bench-exact";

    private static readonly ConcurrentDictionary<(int, int), byte[]> Pngs = new();

    public string Provider => Name;

    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => GenerationCapabilities.Diffusion(1, model.MaxImages);

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        var png = Pngs.GetOrAdd((request.Width, request.Height), size =>
        {
            using var bitmap = new SKBitmap(size.Item1, size.Item2);
            bitmap.Erase(new SKColor(250, 210, 40));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            return data.ToArray();
        });
        var images = new List<GeneratedImage>();
        for (var i = 0; i < request.ImageCount; i++)
        {
            await using (var stream = output.Create(i)) await stream.WriteAsync(png, cancellationToken);
            images.Add(new GeneratedImage(i, request.Width, request.Height));
        }
        return new GenerationResult(images);
    }
}
