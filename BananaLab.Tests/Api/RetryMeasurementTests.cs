using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.Tasks;
using Microsoft.EntityFrameworkCore;
using OpenAI;
using OpenAI.Images;
using Xunit.Abstractions;

namespace BananaLab.Tests.Api;

/// <summary>
/// The measurement behind BENCHMARKS.md "Exactly once under retries": many clients that drop the connection and retry,
/// and many official OpenAI .NET SDK calls that retry a 504 on their own; each counts the keys or calls that ended with
/// more than one task. 20 runs each in the suite; <c>RETRY_MEASUREMENT_RUNS=200</c> for the benchmark.
/// </summary>
public sealed class RetryMeasurementTests(SynchronousRetryTests.ShortWaitFactory factory, ITestOutputHelper output)
    : IClassFixture<SynchronousRetryTests.ShortWaitFactory>
{
    private static int Runs => int.TryParse(Environment.GetEnvironmentVariable("RETRY_MEASUREMENT_RUNS"), out var runs) ? runs : 20;

    [Fact]
    public async Task Dropped_connections_then_retries_with_the_same_key_make_no_duplicates()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 10 * Runs);
        using var client = factory.CreateClient(key);
        var random = new Random(13);
        var dropped = 0;
        var prompts = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (run, _) =>
        {
            var prompt = $"dropped {run} {Guid.NewGuid():N}";
            lock (prompts) prompts.Add(prompt);
            int delayMs;
            lock (random) delayMs = random.Next(0, 15);
            using var drop = new CancellationTokenSource(TimeSpan.FromMilliseconds(delayMs));
            try
            {
                (await ExactlyOnceTests.SubmitAsync(client, $"drop-{run}", prompt, drop.Token)).Dispose();
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref dropped);
            }
            var retried = await ExactlyOnceTests.SubmitUntilSettledAsync(client, $"drop-{run}", prompt);
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        });

        var duplicates = await CountDuplicatesAsync(user.Id, prompts);
        output.WriteLine($"dropped-connection retries: {Runs} keys, {dropped} first requests dropped by the client, {duplicates} keys with more than one task");
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public async Task OpenAI_dotnet_SDK_retrying_504s_on_its_own_makes_no_duplicates()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 10 * Runs);
        var requests = 0;
        using var http = new HttpClient(new CountingHandler(factory.Server.CreateHandler(), () => Interlocked.Increment(ref requests)))
        {
            BaseAddress = factory.Server.BaseAddress,
        };
        var images = new ImageClient(BananaLabFactory.TestModel, new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
        });
        var random = new Random(17);
        var (succeeded, gaveUp) = (0, 0);
        var prompts = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (run, _) =>
        {
            int stepMs;
            lock (random) stepMs = random.Next(100, 1300);
            // Two steps of stepMs: some finish within the 1 s wait, most after it, some between a 504 and the SDK's retry.
            var prompt = $"[slow:{stepMs}] sdk {run} {Guid.NewGuid():N}";
            lock (prompts) prompts.Add(prompt);
            try
            {
                await images.GenerateImageAsync(prompt);
                Interlocked.Increment(ref succeeded);
            }
            catch (ClientResultException e) when (e.Status == 504)
            {
                Interlocked.Increment(ref gaveUp);
            }
        });

        var duplicates = await CountDuplicatesAsync(user.Id, prompts);
        output.WriteLine($"OpenAI .NET SDK calls: {Runs} calls, {requests} HTTP requests ({requests - Runs} SDK retries), " +
            $"{succeeded} images, {gaveUp} gave up after its retries, {duplicates} calls with more than one task");
        Assert.Equal(0, duplicates);
    }

    private async Task<int> CountDuplicatesAsync(Guid userId, IReadOnlyCollection<string> prompts)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var counts = await db.Tasks.Where(t => t.UserId == userId).GroupBy(t => t.Prompt).Select(g => new { g.Key, Count = g.Count() })
            .ToListAsync();
        Assert.Equal(prompts.Count, counts.Count);
        return counts.Count(c => c.Count > 1);
    }

    private sealed class CountingHandler(HttpMessageHandler inner, Action onSend) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            onSend();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
