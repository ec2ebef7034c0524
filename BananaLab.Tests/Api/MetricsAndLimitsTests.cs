using System.Net;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Queue;
using Microsoft.Extensions.Options;

namespace BananaLab.Tests.Api;

public sealed class MetricsTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Metrics_expose_requests_queue_depth_tasks_generation_time_and_credits()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "metered", count = 2 })).Id);

        using var anonymous = factory.CreateClient();
        var text = await anonymous.GetStringAsync("/metrics");

        Assert.Contains("http_requests_received_total{", text);
        Assert.Contains("api/v1/tasks/{id:guid}\"", text);
        Assert.Contains("http_request_duration_seconds_bucket{", text);
        // Every series names the node; generation time also names the worker that ran the task.
        var worker = factory.Services.GetRequiredService<IOptions<WorkerOptions>>().Value.Name;
        Assert.Contains("bananalab_tasks{status=\"succeeded\",node=\"test-node\"} 1", text);
        Assert.Contains("bananalab_queue_depth", text);
        Assert.Contains($"bananalab_generation_seconds_count{{model=\"test-model\",worker=\"{worker}\",node=\"test-node\"}} 1", text);
        Assert.Contains("bananalab_credits_charged_total{node=\"test-node\"} 10", text);
    }
}

public sealed class RateLimitTests(RateLimitTests.TightLimitsFactory factory) : IClassFixture<RateLimitTests.TightLimitsFactory>
{
    public sealed class TightLimitsFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RateLimits:Burst"] = "3",
            ["RateLimits:PermitsPerSecond"] = "1",
        };
    }

    [Fact]
    public async Task A_key_over_its_budget_gets_429_with_retry_after_and_other_keys_are_unaffected()
    {
        var (_, key) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++) statuses.Add((await client.GetAsync("/api/v1/credits")).StatusCode);
        var limited = await client.GetAsync("/api/v1/credits");

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal("rate_limited", (await limited.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient(otherKey).GetAsync("/api/v1/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/livez")).StatusCode);
    }

    [Fact]
    public async Task OpenAI_clients_get_the_openai_rate_limit_envelope()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        HttpResponseMessage response;
        var attempts = 0;
        do response = await client.PostAsJsonAsync("/v1/images/generations", new { prompt = "" });
        while (response.StatusCode != HttpStatusCode.TooManyRequests && ++attempts < 10);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("rate_limit_exceeded", (await response.ReadJsonAsync()).GetProperty("error").GetProperty("code").GetString());
    }
}
