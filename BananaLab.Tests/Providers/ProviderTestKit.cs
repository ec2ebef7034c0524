using System.Collections.Concurrent;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
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

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>(Models)
            {
                ["Worker:MaxAttempts"] = "3",
                ["Worker:Concurrency"] = "4",
            };
            return settings;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
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
