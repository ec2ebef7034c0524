using System.Globalization;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using MudBlazor;

namespace BananaLab.Web.Components.Shared;

/// <summary>How the studio shows a task's fields: status colours, sizes, costs, durations and error messages.</summary>
public static class TaskDisplay
{
    public static Color StatusColor(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued => Color.Default,
        GenerationTaskStatus.Running => Color.Info,
        GenerationTaskStatus.Succeeded => Color.Success,
        GenerationTaskStatus.Failed => Color.Error,
        GenerationTaskStatus.Canceled => Color.Warning,
        GenerationTaskStatus.Blocked => Color.Secondary,
        _ => Color.Default,
    };

    public static string StatusIcon(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued => Icons.Material.Outlined.Schedule,
        GenerationTaskStatus.Running => Icons.Material.Outlined.Autorenew,
        GenerationTaskStatus.Succeeded => Icons.Material.Outlined.CheckCircle,
        GenerationTaskStatus.Failed => Icons.Material.Outlined.ErrorOutline,
        GenerationTaskStatus.Canceled => Icons.Material.Outlined.Cancel,
        GenerationTaskStatus.Blocked => Icons.Material.Outlined.Block,
        _ => Icons.Material.Outlined.HelpOutline,
    };

    public static string StatusLabel(GenerationTaskStatus status) => status.ToString();

    /// <summary>"1K · 1024×1024".</summary>
    public static string Size(TaskSnapshot task) => $"{task.SizeTier.Label()} · {task.Width}×{task.Height}";

    /// <summary>What the task costs: the charge once it ended, the held reservation while it waits or runs.</summary>
    public static string Cost(TaskSnapshot task) =>
        task.IsTerminal ? Credits(task.CreditsCharged) : $"{Credits(task.CreditsReserved)} held";

    public static string Credits(int credits) => credits == 1 ? "1 credit" : $"{credits.ToString("N0", CultureInfo.InvariantCulture)} credits";

    /// <summary>"850 ms", "12.4 s", "3 min 5 s", "1 h 2 min"; a dash when not measured.</summary>
    public static string Duration(long? milliseconds)
    {
        if (milliseconds is not { } ms || ms < 0) return "—";
        if (ms < 1000) return $"{ms} ms";
        var time = TimeSpan.FromMilliseconds(ms);
        if (time.TotalSeconds < 60) return string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.#} s");
        if (time.TotalMinutes < 60) return $"{(int)time.TotalMinutes} min {time.Seconds} s";
        return $"{(int)time.TotalHours} h {time.Minutes} min";
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MB"),
    };

    public static string Durations(TaskSnapshot task) =>
        task.ComputeDurationMs is null && task.TotalDurationMs is null
            ? "—"
            : $"{Duration(task.ComputeDurationMs)} / {Duration(task.TotalDurationMs)}";

    public static string Truncate(string text, int max) =>
        text.Length <= max ? text : text[..Math.Max(0, max - 1)].TrimEnd() + "…";

    /// <summary>A sentence a person can act on for a task that did not succeed; null for one that did or is still going.</summary>
    public static string? Explanation(TaskSnapshot task) => task.Status switch
    {
        GenerationTaskStatus.Blocked => "This prompt was not accepted by moderation. Nothing was charged; you can edit the prompt and try again.",
        GenerationTaskStatus.Canceled => "This task was canceled. Reserved credits were returned.",
        GenerationTaskStatus.Failed => task.ErrorCode switch
        {
            TaskErrors.ProviderTimeout => "The model took too long to answer, so the run was stopped. Your credits were returned; please try again.",
            TaskErrors.NoImage => "The model finished without producing an image. Your credits were returned.",
            TaskErrors.GeneratorUnavailable => "This model is not available right now. Your credits were returned; try again later or pick another model.",
            TaskErrors.LeaseExpired => "The worker running this task stopped responding. Your credits were returned; please try again.",
            TaskErrors.OutputBlocked => "The generated image did not pass moderation and was not kept. Nothing was charged.",
            GenerationErrors.BlockedByProvider => "This prompt was not accepted by moderation. Your credits were returned; you can edit the prompt and try again.",
            GenerationErrors.ProviderAuthFailed => "This model's provider did not accept our credentials, so the model is switched off until an admin fixes it. Your credits were returned.",
            GenerationErrors.ProviderRateLimited or GenerationErrors.ProviderError =>
                "This model's provider is not answering right now. Your credits were returned; please try again later.",
            _ => "The image could not be generated. Your credits were returned; please try again.",
        },
        _ => null,
    };
}
