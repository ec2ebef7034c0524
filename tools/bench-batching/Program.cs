// Adaptive batching across tasks (issue 17), through the real host: Kestrel on loopback, the Production environment,
// the repository's own catalog (banana-nano on the ONNX Runtime CPU provider), SQLite. For 1, 4 and 16 concurrent
// clients, each sending one single-image 1K generation after another through the OpenAI dialect's synchronous
// POST /v1/images/generations, it measures images/s, p50 and p99 latency and the mean images per run
// (bananalab_batch_size from /metrics), with batching on (Worker:MaxBatchSize, default 8) and off (MaxBatchSize=1).
// The two alternate within each client count, each on a fresh host and database, so the comparison is within one run.
//   dotnet run -c Release --project tools/bench-batching [-- --seconds 40 --clients 1,4,16 --batch 8]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using BananaLab.Bench;
using BananaLab.Core.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Bench.Batching;

public static class BatchingBenchmark
{
    public static async Task Main(string[] args)
    {
        var seconds = Arg("--seconds", 40);
        var maxBatch = Arg("--batch", 8);
        var clientCounts = (Value("--clients") ?? "1,4,16").Split(',').Select(int.Parse).ToArray();

        Console.WriteLine($"bench-batching: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, banana-nano 1K at its default steps, " +
            $"{seconds} s per cell, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine();
        Console.WriteLine("| clients | MaxBatchSize | images | images/s | p50 latency | p99 latency | mean images per run |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        var results = new List<(int Clients, int Batch, double Rate, double P50)>();
        foreach (var clients in clientCounts)
            foreach (var batch in new[] { 1, maxBatch })
            {
                var cell = await MeasureAsync(clients, batch);
                results.Add((clients, batch, cell.Rate, cell.P50));
                Console.WriteLine($"| {clients} | {batch} | {cell.Images} | {cell.Rate:F2} | {cell.P50:N0} ms | {cell.P99:N0} ms | {cell.MeanBatch:F2} |");
            }
        Console.WriteLine();
        foreach (var clients in clientCounts)
        {
            var off = results.Single(r => r.Clients == clients && r.Batch == 1);
            var on = results.Single(r => r.Clients == clients && r.Batch == maxBatch);
            Console.WriteLine($"{clients} client(s): batching gives {on.Rate / off.Rate:F2}x the images/s, p50 {on.P50 / off.P50:F2}x of MaxBatchSize=1");
        }
        Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        async Task<(int Images, double Rate, double P50, double P99, double MeanBatch)> MeasureAsync(int clients, int batch)
        {
            var data = Path.Combine(Path.GetTempPath(), "bananalab-bench-batching", Guid.NewGuid().ToString("N"));
            var port = BenchSupport.FreePort();
            await using var host = new Host(data, batch);
            host.UseKestrel(port);
            host.StartServer();
            var user = await host.Services.GetRequiredService<UserService>().CreateAsync($"bench-{Guid.NewGuid():N}@example.test", "Bench",
                UserRole.User, initialCredits: 100_000_000);
            var key = (await host.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "bench")).Secret;
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 };
            using var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

            // Warm up: the first run loads the model and the upscaler.
            await GenerateAsync(http, 0);
            var before = await BatchSizeAsync(http);
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            var end = TimeSpan.FromSeconds(seconds);
            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                for (var n = 0; clock.Elapsed < end; n++)
                {
                    var started = clock.Elapsed;
                    await GenerateAsync(http, 1000 * c + n);
                    lock (latencies) latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                }
            })));
            var elapsed = clock.Elapsed.TotalSeconds;
            var after = await BatchSizeAsync(http);
            latencies.Sort();
            var runs = after.Count - before.Count;
            return (latencies.Count, latencies.Count / elapsed, BenchSupport.Percentile(latencies, 0.5), BenchSupport.Percentile(latencies, 0.99),
                runs == 0 ? double.NaN : (after.Sum - before.Sum) / runs);
        }

        async Task GenerateAsync(HttpClient http, int seed)
        {
            using var response = await http.PostAsJsonAsync("/v1/images/generations", new
            {
                model = "banana-nano", prompt = $"a bright emoji of a fruit, number {seed}", size = "1024x1024", n = 1, response_format = "url",
            });
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        static async Task<(double Sum, double Count)> BatchSizeAsync(HttpClient http)
        {
            var text = await http.GetStringAsync("/metrics");
            double Read(string series) => Regex.Match(text, $@"^{series}\{{model=""banana-nano""[^}}]*\}} (\S+)$", RegexOptions.Multiline) is { Success: true } m
                ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            return (Read("bananalab_batch_size_sum"), Read("bananalab_batch_size_count"));
        }

        int Arg(string name, int fallback) => Value(name) is { } v ? int.Parse(v) : fallback;

        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>The product's host as the README runs it (Production, the repository's appsettings.json and models), on its own data folder.</summary>
sealed class Host(string dataDirectory, int maxBatchSize) : WebApplicationFactory<global::Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseContentRoot(BenchSupport.RepositoryRoot());
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["Storage:DataDirectory"] = dataDirectory, ["Bootstrap:AdminEmail"] = "", ["RateLimits:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning", ["Worker:MaxBatchSize"] = maxBatchSize.ToString(CultureInfo.InvariantCulture),
        }) builder.UseSetting(k, v);
    }
}
