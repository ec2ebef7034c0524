// ETA accuracy on a queue of mixed sizes: the real host (Production, embedded banana-nano on the CPU) over HTTP.
// It first runs one task per tier so the ETA model has measurements (as a running install has), then submits a
// mixed queue at once, reads each task's etaSeconds right after submitting it, and compares it with the time
// the task actually took from submission until it succeeded.
//   dotnet run -c Release --project tools/bench-eta [-- --rounds 3]
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Bench;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace BananaLab.Bench.Eta;

public static class EtaBenchmark
{
    private const string AdminKey = "bl_bench_eta_admin_key_0123456789";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The mixed queue: size tier and image count of each task, submitted in this order.</summary>
    private static readonly (string Size, int Count)[] Queue =
        [("1K", 1), ("2K", 2), ("4K", 1), ("1K", 2), ("2K", 1), ("1K", 1), ("4K", 1), ("2K", 1), ("1K", 3), ("1K", 1)];

    public static async Task Main(string[] args)
    {
        var rounds = args is ["--rounds", var r] ? int.Parse(r) : 3;
        var data = Path.Combine(Path.GetTempPath(), "bananalab-bench-eta", Guid.NewGuid().ToString("N"));
        await using var factory = new EtaFactory(data);
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = new HttpClient { BaseAddress = factory.ClientOptions.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        Console.WriteLine($"ETA accuracy — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {Load()}, banana-nano, 20 steps, 1 worker");

        Console.WriteLine("Warm-up: one task per tier, so the ETA model has measured each once...");
        foreach (var size in new[] { "1K", "2K", "4K", "1K" })
            await WaitAsync(client, await SubmitAsync(client, size, 1, "warm up"));

        var errors = new List<double>();
        var relative = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var submitted = new List<(Guid Id, string Size, int Count, double Eta, Stopwatch Clock)>();
            foreach (var (size, count) in Queue)
            {
                var clock = Stopwatch.StartNew();
                var id = await SubmitAsync(client, size, count, $"a red apple {round}");
                var eta = (await GetAsync(client, id)).GetProperty("etaSeconds");
                submitted.Add((id, size, count, eta.ValueKind == JsonValueKind.Number ? eta.GetDouble() : double.NaN, clock));
            }
            Console.WriteLine($"round {round}: task, size × count, ETA at submit (s), actual (s), error (s)");
            var pending = submitted.ToList();
            var actual = new Dictionary<Guid, double>();
            while (pending.Count > 0)
            {
                foreach (var task in pending.ToList())
                {
                    var status = (await GetAsync(client, task.Id)).GetProperty("status").GetString();
                    if (status is "queued" or "running") continue;
                    if (status != "succeeded") throw new InvalidOperationException($"Task {task.Id} ended {status}.");
                    actual[task.Id] = task.Clock.Elapsed.TotalSeconds;
                    pending.Remove(task);
                }
                await Task.Delay(100);
            }
            foreach (var (id, size, count, eta, _) in submitted)
            {
                var took = actual[id];
                var error = eta - took;
                errors.Add(Math.Abs(error));
                relative.Add(Math.Abs(error) / took);
                Console.WriteLine($"  {id.ToString()[^8..]}  {size} × {count}  {eta,6:0.0}  {took,6:0.0}  {error,6:+0.0;-0.0}");
            }
        }
        errors.Sort();
        relative.Sort();
        Console.WriteLine($"Tasks: {errors.Count}. Median absolute ETA error {BenchSupport.Percentile(errors, 0.5):0.0} s " +
                          $"(p90 {BenchSupport.Percentile(errors, 0.9):0.0} s); median relative error {BenchSupport.Percentile(relative, 0.5):P0}. Load {Load()}.");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
    }

    private static async Task<Guid> SubmitAsync(HttpClient client, string size, int count, string prompt)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = "banana-nano", prompt, size, count, seed = 7 });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, Guid id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/tasks/{id}", Json);

    private static async Task WaitAsync(HttpClient client, Guid id)
    {
        while ((await GetAsync(client, id)).GetProperty("status").GetString() is "queued" or "running") await Task.Delay(100);
    }

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private sealed class EtaFactory(string dataDirectory) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseContentRoot(BenchSupport.RepositoryRoot());
            foreach (var (key, value) in new Dictionary<string, string>
            {
                ["Storage:DataDirectory"] = dataDirectory, ["Bootstrap:AdminApiKey"] = AdminKey, ["Bootstrap:InitialCredits"] = "100000",
                ["RateLimits:Enabled"] = "false", ["Logging:LogLevel:Default"] = "Warning", ["Worker:PollIntervalMs"] = "100",
            }) builder.UseSetting(key, value);
        }
    }
}
