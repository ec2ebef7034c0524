using System.Collections.Concurrent;
using BananaLab.Core.Cluster;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Queue;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using BananaLab.Web.Api.Tasks;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Providers;

/// <summary>
/// The app with remote-provider catalog entries pointing at a loopback server, three attempts per task, room for several
/// tasks at once, and every log line of the host captured (all levels, HttpClient's own included) to look for secrets in.
/// </summary>
public abstract class RemoteProviderHostFactory : BananaLabFactory
{
    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>The remote entries of the catalog.</summary>
    protected abstract IDictionary<string, string?> Models { get; }

    /// <summary>The loopback service the entries point at, stopped with the host.</summary>
    protected abstract IAsyncDisposable Service { get; }

    /// <summary>A remote catalog entry: 3 credits per 1K image, up to 4 images.</summary>
    protected static void AddEntry(IDictionary<string, string?> settings, string id, string provider, string endpoint, string? apiKey,
        string remoteModel, int timeoutSeconds)
    {
        settings[$"Models:{id}:DisplayName"] = $"Remote model {id}";
        settings[$"Models:{id}:Provider"] = provider;
        settings[$"Models:{id}:Endpoint"] = endpoint;
        settings[$"Models:{id}:ApiKey"] = apiKey;
        settings[$"Models:{id}:RemoteModel"] = remoteModel;
        settings[$"Models:{id}:Tiers:1K"] = "3";
        settings[$"Models:{id}:MaxImages"] = "4";
        settings[$"Models:{id}:TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(Models)
            {
                ["Worker:MaxAttempts"] = "3",
                ["Worker:Concurrency"] = "4",
                // These tests follow each failure through its own attempts; pausing a model after a run of them is the
                // circuit breaker's job, tested on its own (ProviderCircuitTests).
                ["Worker:CircuitFailures"] = "1000",
            };
            return settings;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Service.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Switches <paramref name="model"/> back on, as an admin's Retry does: a refusal of its credentials in an earlier test
    /// switched it off (refused at submission) for the rest of the host's life.
    /// </summary>
    public Task SwitchOnAsync(string model) =>
        Services.GetRequiredService<IClusterBroadcast>().PublishAsync(ModelCircuits.RetryTopic, model);

    /// <summary>
    /// The task failed with <paramref name="code"/> after <paramref name="attempts"/> attempts (the ones before retried with
    /// that code), and its credits were reserved once and released once.
    /// </summary>
    public async Task AssertFailedAndReleasedAsync(TaskResponse done, string code, int attempts)
    {
        Assert.Equal("failed", done.Status);
        Assert.Equal(code, done.Error?.Code);
        var record = await RecordOfAsync(done.Id);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Release], record.Credits);
        Assert.Equal(Enumerable.Repeat(((TaskAttemptOutcome?)TaskAttemptOutcome.Retried, (string?)code), attempts - 1)
            .Append((TaskAttemptOutcome.Failed, code)), record.Attempts);
    }

    /// <summary>
    /// The task succeeded on its second attempt, after a <c>provider_rate_limited</c> first one, its second call at least the
    /// service's <c>Retry-After</c> (1 s) after the first, and its credits were captured once.
    /// </summary>
    public async Task AssertSucceededAfterRetryAfterAsync(TaskResponse done, IReadOnlyList<LoopbackProviderServer.Call> calls)
    {
        Assert.Equal("succeeded", done.Status);
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromMilliseconds(950), $"retried after {(calls[1].At - calls[0].At).TotalMilliseconds} ms");
        var record = await RecordOfAsync(done.Id);
        Assert.Equal([(TaskAttemptOutcome.Retried, "provider_rate_limited"), (TaskAttemptOutcome.Succeeded, null)], record.Attempts);
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], record.Credits);
    }

    /// <summary>A task's record: its credit entries and its attempts (outcome and code), in order.</summary>
    public async Task<(List<CreditEntryKind> Credits, List<(TaskAttemptOutcome? Outcome, string? Code)> Attempts)> RecordOfAsync(Guid taskId)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        var credits = await db.CreditEntries.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        var attempts = await db.TaskAttempts.AsNoTracking().Where(a => a.TaskId == taskId).OrderBy(a => a.Id)
            .Select(a => new { a.Outcome, a.ErrorCode }).ToListAsync();
        return (credits, attempts.Select(a => (a.Outcome, a.ErrorCode)).ToList());
    }

    /// <summary>Waits (up to 15 s) for <paramref name="condition"/> to hold.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition never held.");
            await Task.Delay(50);
        }
    }

    /// <summary>Fails when a captured log line (or its exception) holds <paramref name="secret"/>.</summary>
    public void AssertNotLogged(string secret)
    {
        Assert.NotEmpty(Logs.Lines);
        Assert.DoesNotContain(Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
    }
}

/// <summary>Keeps every log line, with its exception, of every category and level.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
