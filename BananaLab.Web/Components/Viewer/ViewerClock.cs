using System.Globalization;

namespace BananaLab.Web.Components.Viewer;

/// <summary>
/// The one place the studio turns stored UTC times into the viewer's local time. Scoped: one per request and per
/// circuit, told the browser's time zone by <c>Routes</c> from the <see cref="ViewerCookies.TimeZone"/> cookie; UTC until then.
/// </summary>
public sealed class ViewerClock
{
    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Utc;

    /// <summary>The zone's IANA name, "UTC" when the browser has not told us one.</summary>
    public string ZoneName => Zone == TimeZoneInfo.Utc ? "UTC" : Zone.Id;

    /// <summary>Uses the browser's zone; an unknown or malformed name (the cookie is the client's to write) leaves UTC.</summary>
    public void Use(string? ianaId)
    {
        Zone = TryFind(ianaId) ?? TimeZoneInfo.Utc;
    }

    /// <summary>"2026-11-30 21:05:09 UTC+9": the full local time with its offset, as detail pages and tooltips show it.</summary>
    public string Timestamp(DateTime? utc) =>
        utc is { } value ? $"{Local(value).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {Offset(value)}" : "—";

    /// <summary>"2026-11-30 21:05": to the minute for dense tables, whose header names the zone (<see cref="ZoneName"/>).</summary>
    public string Short(DateTime utc) => Format(utc, "yyyy-MM-dd HH:mm");

    /// <summary>"21:05:09": a time of day today, for "updated at" notes.</summary>
    public string TimeOfDay(DateTime utc) => Format(utc, "HH:mm:ss");

    /// <summary>The local time in a format of the caller's (invariant culture), e.g. "HH:mm" for chart axes.</summary>
    public string Format(DateTime utc, string format) => Local(utc).ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The viewer's calendar date now.</summary>
    public DateTime Today(DateTime utcNow) => Local(utcNow).Date;

    /// <summary>The UTC instant the viewer's calendar <paramref name="day"/> starts, for date-range filters.</summary>
    public DateTime StartOfDayUtc(DateTime day)
    {
        var midnight = DateTime.SpecifyKind(day.Date, DateTimeKind.Unspecified);
        // Where a daylight-saving change skips midnight, the day starts at the first hour that exists.
        while (Zone.IsInvalidTime(midnight)) midnight = midnight.AddMinutes(30);
        return TimeZoneInfo.ConvertTimeToUtc(midnight, Zone);
    }

    /// <summary>"UTC", "UTC+9", "UTC+5:30", "UTC-3": the zone's offset at that moment.</summary>
    public string Offset(DateTime utc)
    {
        if (Zone == TimeZoneInfo.Utc) return "UTC";
        var offset = Zone.GetUtcOffset(AsUtc(utc));
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        var abs = offset.Duration();
        return abs.Minutes == 0 ? $"UTC{sign}{abs.Hours}" : $"UTC{sign}{abs.Hours}:{abs.Minutes:00}";
    }

    private DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(AsUtc(utc), Zone);

    // SQLite hands dates back unspecified; every stored time is UTC.
    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static TimeZoneInfo? TryFind(string? ianaId)
    {
        if (string.IsNullOrWhiteSpace(ianaId) || ianaId.Length > 64 || ianaId.Contains("..", StringComparison.Ordinal)
            || !ianaId.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-' or '+')) return null;
        try
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(ianaId);
            return zone.BaseUtcOffset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime ? TimeZoneInfo.Utc : zone;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }
}
