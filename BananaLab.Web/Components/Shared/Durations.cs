namespace BananaLab.Web.Components.Shared;

/// <summary>Human-readable durations and sizes for task lists and pages.</summary>
public static class Durations
{
    public static string Format(long milliseconds) => milliseconds switch
    {
        < 1_000 => $"{milliseconds} ms",
        < 60_000 => $"{milliseconds / 1000.0:0.0} s",
        _ => $"{milliseconds / 60_000} min {milliseconds % 60_000 / 1000} s",
    };

    public static string Format(long? milliseconds) => milliseconds is { } value ? Format(value) : "—";

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0} KB",
        _ => $"{bytes / (1024.0 * 1024):0.0} MB",
    };
}
