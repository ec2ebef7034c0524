using System.Globalization;
using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using BananaLab.Web.Components.Shared;

namespace BananaLab.Web.Pages.Admin;

/// <summary>How the admin pages write ids, times, latencies and ledger kinds (task fields: <see cref="TaskDisplay"/>).</summary>
public static class AdminFormat
{
    /// <summary>A short handle for an id: the last 8 hex digits (a version-7 id starts with its timestamp, shared by neighbours).</summary>
    public static string ShortId(Guid id) => id.ToString("N")[^8..];

    /// <summary>An average duration (the dashboard's), written like every other duration.</summary>
    public static string Duration(double? milliseconds) => TaskDisplay.Duration(milliseconds is { } ms ? (long)Math.Round(ms) : null);

    public static string Latency(long microseconds) =>
        microseconds < 1000 ? $"{microseconds} µs" : (microseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public static string EntryKind(CreditEntryKind kind) => kind switch
    {
        CreditEntryKind.Grant => "Grant",
        CreditEntryKind.Reserve => "Reserve",
        CreditEntryKind.Capture => "Capture (charged)",
        CreditEntryKind.Release => "Release (refund)",
        _ => "Adjustment",
    };

    /// <summary>How a run ended, in words, with its error code when it failed ("retried (provider_timeout)").</summary>
    public static string Outcome(TaskAttempt attempt) => attempt.Outcome switch
    {
        null => "running",
        TaskAttemptOutcome.LeaseExpired => "lease expired",
        TaskAttemptOutcome.Orphaned => "worker restarted",
        TaskAttemptOutcome.Released => "handed back at shutdown",
        { } outcome => outcome.ToString().ToLowerInvariant(),
    } + (attempt.ErrorCode is { } code && attempt.Outcome is not TaskAttemptOutcome.Succeeded ? $" ({code})" : "");

    public static string Subject(string subject) => subject switch
    {
        "prompt" => "Prompt",
        "reference_image" => "Reference image",
        "output_image" => "Output image",
        "provider" => "Refused by the provider",
        _ => subject,
    };

    /// <summary>A model's circuit on one worker, in words.</summary>
    public static string Circuit(ModelHealth health) => health.Circuit switch
    {
        CircuitState.Off => "switched off",
        CircuitState.Open => $"paused until {health.OpenUntil:HH:mm:ss} UTC",
        _ => "sending tasks",
    };

    /// <summary>A comma-separated list stored by the moderation log, as separate values.</summary>
    public static string[] List(string? commaSeparated) =>
        string.IsNullOrEmpty(commaSeparated) ? [] : commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
