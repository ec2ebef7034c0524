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
using BananaLab.Bench;
using BananaLab.Core.Catalog;
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
        var port = BenchSupport.FreePort();

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
        // A task that stays running for the whole benchmark: polling it takes the database path every time.
        var running = await (await http.PostAsJsonAsync("/api/v1/tasks", new { model = "bench-slow", prompt = "never finishes" })).Content.ReadFromJsonAsync<JsonElement>();
        var runningId = running.GetProperty("id").GetGuid();

        // Phase 1: mixed load.
        var mixed = await RunAsync(TimeSpan.FromSeconds(seconds), clients, i => i % 2 == 0
            ? ("POST /api/v1/tasks", () => http.PostAsJsonAsync("/api/v1/tasks", new { model = "bench-model", prompt = "load test" }))
            : ("GET /api/v1/tasks/{id}", () => http.GetAsync($"/api/v1/tasks/{pollId}")));
        // Let the worker finish the mixed phase's backlog, so it does not slow the phases that follow.
        var tasksService = factory.Services.GetRequiredService<BananaLab.Core.Tasks.TaskService>();
        while ((await tasksService.ListAsync(user.Id, new BananaLab.Core.Tasks.TaskQuery { Status = BananaLab.Core.Tasks.GenerationTaskStatus.Queued, PageSize = 1 }, default)).Total > 0)
            await Task.Delay(500);

        // Status polling beside a bare endpoint, same host, same client count; the baseline runs before and after.
        var shortPhase = TimeSpan.FromSeconds(Math.Max(5, seconds / 3));
        var ping = await RunAsync(shortPhase, clients, _ => ("GET /ping", () => http.GetAsync("/ping")));
        var livez = await RunAsync(shortPhase, clients, _ => ("GET /livez", () => http.GetAsync("/livez")));
        var pollRunning = await RunAsync(shortPhase, clients, _ => ("GET /api/v1/tasks/{id} (running task)", () => http.GetAsync($"/api/v1/tasks/{runningId}")));
        var poll = await RunAsync(shortPhase, clients, _ => ("GET /api/v1/tasks/{id} (finished task)", () => http.GetAsync($"/api/v1/tasks/{pollId}")));
        var pingAfter = await RunAsync(shortPhase, clients, _ => ("GET /ping", () => http.GetAsync("/ping")));

        Console.WriteLine();
        Console.WriteLine("| phase | endpoint | requests/s | p50 ms | p99 ms | errors |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (phase, result) in new[] { ("mixed", mixed), ("bare baseline", ping), ("full-pipeline baseline", livez),
                     ("status poll", pollRunning), ("status poll", poll), ("bare baseline, again", pingAfter) })
            foreach (var (endpoint, samples) in result.Latencies.OrderBy(e => e.Key))
            {
                var sorted = samples.ToArray();
                Array.Sort(sorted);
                Console.WriteLine($"| {phase} | {endpoint} | {sorted.Length / result.Seconds:F0} | {BenchSupport.Percentile(sorted, 0.5):F2} | {BenchSupport.Percentile(sorted, 0.99):F2} | {result.Errors.GetValueOrDefault(endpoint)} |");
            }
        static double Rate((ConcurrentDictionary<string, ConcurrentBag<double>> Latencies, ConcurrentDictionary<string, int> Errors, double Seconds) r) =>
            r.Latencies.Values.Sum(v => v.Count) / r.Seconds;
        var pingRate = (Rate(ping) + Rate(pingAfter)) / 2;
        var pollRate = Rate(poll);
        var pollRunningRate = Rate(pollRunning);
        var livezRate = Rate(livez);
        Console.WriteLine($"\nbare /ping (mean of the runs before and after) = {pingRate:F0} requests/s; /livez through the whole pipeline = {livezRate:F0}");
        Console.WriteLine($"status poll of a running task / bare /ping = {pollRunningRate / pingRate:P0}; / livez = {pollRunningRate / livezRate:P0} (target >= 50% of /ping)");
        Console.WriteLine($"status poll of a finished task / bare /ping = {pollRate / pingRate:P0}; / livez = {pollRate / livezRate:P0}");
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
        builder.UseContentRoot(BenchSupport.RepositoryRoot());
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["Storage:DataDirectory"] = dataDirectory, ["Bootstrap:AdminEmail"] = "", ["RateLimits:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning", ["Worker:PollIntervalMs"] = "100",
            ["Models:bench-model:DisplayName"] = "Benchmark model", ["Models:bench-model:Provider"] = "bench",
            ["Models:bench-model:NativeWidth"] = "64", ["Models:bench-model:NativeHeight"] = "64", ["Models:bench-model:Tiers:1K"] = "1",
            ["Models:bench-slow:DisplayName"] = "Benchmark model that never finishes", ["Models:bench-slow:Provider"] = "bench-slow",
            ["Models:bench-slow:NativeWidth"] = "64", ["Models:bench-slow:NativeHeight"] = "64", ["Models:bench-slow:Tiers:1K"] = "1",
            ["Models:bench-slow:TimeoutSeconds"] = "3600", ["Worker:Concurrency"] = "2",
        }) builder.UseSetting(k, v);
        builder.ConfigureTestServices(services =>
        {
            services.AddImageGenerator<InstantGenerator>();
            services.AddImageGenerator<EndlessGenerator>();
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

/// <summary>Runs until canceled, reporting progress now and then: a task that stays "running" for the poll phase.</summary>
sealed class EndlessGenerator : IImageGenerator
{
    public string Provider => "bench-slow";

    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => GenerationCapabilities.Diffusion(1, model.MaxImages);

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        for (var step = 1; ; step++)
        {
            progress.Report(new GenerationProgress(step % 100, 100));
            await Task.Delay(1000, cancellationToken);
        }
    }
}
