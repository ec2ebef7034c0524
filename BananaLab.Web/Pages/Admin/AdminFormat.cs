using System.Globalization;
using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using MudBlazor;

namespace BananaLab.Web.Pages.Admin;

/// <summary>How the admin pages write times, durations and statuses.</summary>
public static class AdminFormat
{
    public static string Time(DateTime? utc) =>
        utc is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "—";

    /// <summary>A short handle for an id: the last 8 hex digits (a version-7 id starts with its timestamp, shared by neighbours).</summary>
    public static string ShortId(Guid id) => id.ToString("N")[^8..];

    /// <summary>To the minute, for dense tables (the column header says UTC).</summary>
    public static string ShortTime(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string Duration(long? milliseconds) => milliseconds switch
    {
        null => "—",
        < 1000 => $"{milliseconds} ms",
        < 60_000 => (milliseconds.Value / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s",
        _ => TimeSpan.FromMilliseconds(milliseconds.Value).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture),
    };

    public static string Duration(double? milliseconds) => Duration(milliseconds is { } ms ? (long)Math.Round(ms) : null);

    public static string Latency(long microseconds) =>
        microseconds < 1000 ? $"{microseconds} µs" : (microseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public static Color StatusColor(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued => Color.Default,
        GenerationTaskStatus.Running => Color.Info,
        GenerationTaskStatus.Succeeded => Color.Success,
        GenerationTaskStatus.Failed => Color.Error,
        GenerationTaskStatus.Canceled => Color.Warning,
        _ => Color.Secondary,
    };

    public static string EntryKind(CreditEntryKind kind) => kind switch
    {
        CreditEntryKind.Grant => "Grant",
        CreditEntryKind.Reserve => "Reserve",
        CreditEntryKind.Capture => "Capture (charged)",
        CreditEntryKind.Release => "Release (refund)",
        _ => "Adjustment",
    };

    public static string Subject(string subject) => subject switch
    {
        "prompt" => "Prompt",
        "reference_image" => "Reference image",
        "output_image" => "Output image",
        _ => subject,
    };

    /// <summary>A comma-separated list stored by the moderation log, as separate values.</summary>
    public static string[] List(string? commaSeparated) =>
        string.IsNullOrEmpty(commaSeparated) ? [] : commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
