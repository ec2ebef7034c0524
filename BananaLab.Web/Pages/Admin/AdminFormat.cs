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
