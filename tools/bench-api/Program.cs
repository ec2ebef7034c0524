// API load benchmark: 64 concurrent clients on loopback against the real host (Kestrel), half submitting
// tasks and half polling status, then status polling beside a bare /ping (mapped ahead of all middleware)
// and /livez (through the whole pipeline) in the same host.
//   dotnet run -c Release --project tools/bench-api [-- --seconds 30 --clients 64]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Core.Generation;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Bench.Api;

public static class ApiBenchmark
{
    public static async Task Main(string[] args)
    {
        var seconds = Arg(args, "--seconds", 30);
        var clients = Arg(args, "--clients", 64);
        var data = Path.Combine(Path.GetTempPath(), "bananalab-bench-api", Guid.NewGuid().ToString("N"));
        var port = FreePort();

        await using var factory = new BenchFactory(data);
        factory.UseKestrel(port);
        factory.StartServer();
        var baseUrl = $"http://127.0.0.1:{port}";
        var users = factory.Services.GetRequiredService<UserService>();
        var keys = factory.Services.GetRequiredService<ApiKeyService>();

        Console.WriteLine($"BananaLab API benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {clients} clients, {seconds}s mixed phase");

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl) };
        var user = await users.CreateAsync("bench@example.test", "Bench", UserRole.User, initialCredits: 100_000_000);
        var key = (await keys.CreateAsync(user.Id, "bench")).Secret;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var seed = await (await http.PostAsJsonAsync("/api/v1/tasks", new { model = "bench-model", prompt = "seed task" })).Content.ReadFromJsonAsync<JsonElement>();
        var pollId = seed.GetProperty("id").GetGuid();

        // Phase 1: mixed load.
        var mixed = await RunAsync(TimeSpan.FromSeconds(seconds), clients, i => i % 2 == 0
            ? ("POST /api/v1/tasks", () => http.PostAsJsonAsync("/api/v1/tasks", new { model = "bench-model", prompt = "load test" }))
            : ("GET /api/v1/tasks/{id}", () => http.GetAsync($"/api/v1/tasks/{pollId}")));
        // Phase 2 and 3: status polling beside a bare endpoint, same host, same client count.
        var shortPhase = TimeSpan.FromSeconds(Math.Max(5, seconds / 3));
        var ping = await RunAsync(shortPhase, clients, _ => ("GET /ping", () => http.GetAsync("/ping")));
        var livez = await RunAsync(shortPhase, clients, _ => ("GET /livez", () => http.GetAsync("/livez")));
        var poll = await RunAsync(shortPhase, clients, _ => ("GET /api/v1/tasks/{id}", () => http.GetAsync($"/api/v1/tasks/{pollId}")));

        Console.WriteLine();
        Console.WriteLine("| phase | endpoint | requests/s | p50 ms | p99 ms | errors |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (phase, result) in new[] { ("mixed", mixed), ("bare baseline", ping), ("full-pipeline baseline", livez), ("status poll", poll) })
            foreach (var (endpoint, samples) in result.Latencies.OrderBy(e => e.Key))
            {
                var sorted = samples.ToArray();
                Array.Sort(sorted);
                Console.WriteLine($"| {phase} | {endpoint} | {sorted.Length / result.Seconds:F0} | {Percentile(sorted, 0.5):F2} | {Percentile(sorted, 0.99):F2} | {result.Errors.GetValueOrDefault(endpoint)} |");
            }
        var pingRate = ping.Latencies.Values.Sum(v => v.Count) / ping.Seconds;
        var pollRate = poll.Latencies.Values.Sum(v => v.Count) / poll.Seconds;
        var livezRate = livez.Latencies.Values.Sum(v => v.Count) / livez.Seconds;
        Console.WriteLine($"\nstatus poll / bare /ping = {pollRate:F0} / {pingRate:F0} = {pollRate / pingRate:P0} (target >= 50%)");
        Console.WriteLine($"status poll / /livez through the whole middleware pipeline = {pollRate:F0} / {livezRate:F0} = {pollRate / livezRate:P0}");
        Console.WriteLine($"mixed phase total: {mixed.Latencies.Values.Sum(v => v.Count) / mixed.Seconds:F0} requests/s, errors: {mixed.Errors.Values.Sum()}");
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }


    static async Task<(ConcurrentDictionary<string, ConcurrentBag<double>> Latencies, ConcurrentDictionary<string, int> Errors, double Seconds)> RunAsync(
        TimeSpan duration, int clients, Func<int, (string Name, Func<Task<HttpResponseMessage>> Send)> workload)
    {
        var latencies = new ConcurrentDictionary<string, ConcurrentBag<double>>();
        var errors = new ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async i =>
        {
            var (name, send) = workload(i);
            var bag = latencies.GetOrAdd(name, _ => []);
            errors.TryAdd(name, 0);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await send();
                    await response.Content.LoadIntoBufferAsync();
                    if (!response.IsSuccessStatusCode) errors.AddOrUpdate(name, 1, (_, n) => n + 1);
                }
                catch (HttpRequestException)
                {
                    errors.AddOrUpdate(name, 1, (_, n) => n + 1);
                }
                bag.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        return (latencies, errors, clock.Elapsed.TotalSeconds);
    }

    static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}

/// <summary>The real host on Kestrel with an instant model, no rate limits, and a bare /ping beside it.</summary>
sealed class BenchFactory(string dataDirectory) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        var root = Directory.GetCurrentDirectory();
        while (!File.Exists(Path.Combine(root, "BananaLab.sln"))) root = Path.GetDirectoryName(root)!;
        builder.UseContentRoot(root);
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["Storage:DataDirectory"] = dataDirectory, ["Bootstrap:AdminEmail"] = "", ["RateLimits:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning", ["Worker:PollIntervalMs"] = "100",
            ["Models:bench-model:DisplayName"] = "Benchmark model", ["Models:bench-model:Provider"] = "bench",
            ["Models:bench-model:NativeWidth"] = "64", ["Models:bench-model:NativeHeight"] = "64", ["Models:bench-model:Tiers:1K"] = "1",
        }) builder.UseSetting(k, v);
        builder.ConfigureTestServices(services =>
        {
            services.AddKeyedSingleton<IImageGenerator, InstantGenerator>("bench");
            services.AddSingleton<IStartupFilter, PingStartupFilter>();
        });
    }

    private sealed class PingStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map("/ping", ping => ping.Run(context => context.Response.WriteAsync("pong")));
            next(app);
        };
    }
}

/// <summary>Writes a tiny fixed PNG at once: the benchmark measures the API, not a model.</summary>
sealed class InstantGenerator : IImageGenerator
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IImageOutput output,
        CancellationToken cancellationToken)
    {
        await using (var stream = output.Create(0)) await stream.WriteAsync(Png, cancellationToken);
        return new GenerationResult([new GeneratedImage(0, request.Width, request.Height)]);
    }
}
