using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BananaLab.Tests.Infrastructure;

/// <summary>
/// Every log line a host writes, at every level and with its exceptions' full text, for tests that look for what must never be
/// logged (a secret). Add it with <c>builder.ConfigureLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))</c>.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The lines that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> Containing(string text) => _lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            logs._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : Environment.NewLine + exception)}");
            // The structured values too: a template may leave one out of its text.
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                logs._lines.Enqueue(string.Join("; ", values.Select(v => $"{v.Key}={v.Value}")));
        }
    }
}
