using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Api;

/// <summary>Inputs at the edges: the largest page number, prompts that only look empty, one idempotency key raced.</summary>
public sealed class EdgeInputTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    [Theory]
    [InlineData("/api/v1/tasks?page=2147483647", "items")]
    [InlineData("/api/v1/tasks?page=2147483647&pageSize=100", "items")]
    [InlineData("/api/v1/credits/ledger?page=2147483647", "entries")]
    [InlineData("/api/v1/credits/ledger?page=2147483647&pageSize=200", "entries")]
    public async Task The_largest_page_number_is_an_empty_page_not_the_first(string url, string list)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        await factory.Services.SubmitTestTaskAsync(user.Id, "something on page one");
        using var client = factory.CreateClient(key);

        var page = await (await client.GetAsync(url)).ReadJsonAsync();

        Assert.Equal(0, page.GetProperty(list).GetArrayLength());
    }

    [Theory]
    [InlineData("\u200B")]
    [InlineData("\u200C\u200D")]
    [InlineData("\u2060\uFEFF")]
    [InlineData("\u00AD")]
    [InlineData(" \u200B \u200E\u200F\u202A\u202C\u2061\u180E\u3164\uFE0F ")]
    [InlineData("\t\u00A0\u2000\u3000\u2028\u2029")]
    [InlineData("\U000E0041\U000E0001")]
    public async Task A_prompt_of_only_invisible_characters_is_refused_uncharged(string prompt)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt_required", (await response.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(100, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Theory]
    [InlineData("json", "negative_prompt")]
    [InlineData("json", "cfgScale")]
    [InlineData("multipart", "negative_prompt")]
    public async Task A_field_the_native_api_does_not_take_is_refused_by_name_uncharged(string body, string field)
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);

        using var response = body == "json"
            ? await client.PostAsync("/api/v1/tasks", JsonContent.Create(new Dictionary<string, object>
            {
                ["model"] = BananaLabFactory.TestModel, ["prompt"] = "a cat", [field] = "blurry",
            }))
            : await client.PostAsync("/api/v1/tasks", new MultipartFormDataContent
            {
                { new StringContent(BananaLabFactory.TestModel), "model" }, { new StringContent("a cat"), "prompt" }, { new StringContent("blurry"), field },
            });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Contains($"'{field}' is not a field this endpoint takes", problem.GetProperty("detail").GetString());
        Assert.Equal(100, await factory.Services.GetRequiredService<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Theory]
    [InlineData("\u200Bcat")]
    [InlineData("👩\u200D💻")]
    [InlineData("日本")]
    [InlineData("\u0301")]
    public void A_prompt_with_anything_visible_counts_as_text(string prompt) => Assert.True(PromptText.HasVisibleText(prompt));

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_log_no_database_error()
    {
        var logs = new CapturingLoggerProvider();
        using var host = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tasks")
            {
                Content = JsonContent.Create(new { model = BananaLabFactory.TestModel, prompt = "one key, many requests" }),
            };
            request.Headers.Add("Idempotency-Key", "raced-key");
            return client.SendAsync(request);
        }));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Empty(logs.Errors);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error) owner.Errors.Enqueue($"{category}: {formatter(state, exception)}");
            }
        }
    }
}
