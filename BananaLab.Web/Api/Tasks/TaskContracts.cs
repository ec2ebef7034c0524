using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Api.Tasks;

/// <summary>Body of <c>POST /api/v1/tasks</c> (and, with <c>models</c> instead of <c>model</c>, of <c>POST /api/v1/comparisons</c>).</summary>
public record CreateTaskBody
{
    public string? Model { get; init; }
    public string? Prompt { get; init; }
    public string? NegativePrompt { get; init; }
    public string? Size { get; init; }
    public string? AspectRatio { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Count { get; init; }
    public long? Seed { get; init; }
    public int? Steps { get; init; }
    public double? Guidance { get; init; }
    public string? OutputFormat { get; init; }
    /// <summary>Base64-encoded PNG, JPEG or WebP.</summary>
    public string? ReferenceImage { get; init; }
    public double? ReferenceStrength { get; init; }
    /// <summary>"cover" (default: crop the reference to the output's aspect) or "contain" (fit it whole, padded with its mean colour).</summary>
    public string? ReferenceFit { get; init; }
    /// <summary>Base64 PNG the size of the reference whose transparent pixels mark what to repaint (the rest is kept).</summary>
    public string? MaskImage { get; init; }
    /// <summary>Called with the task's final state, signed with the account's webhook secret.</summary>
    public string? WebhookUrl { get; init; }
}

/// <summary>
/// A task as the native API returns it. <see cref="Progress"/> is 0–100, weighted by the phases' measured cost and 100
/// only once the images are stored; <see cref="Phase"/> is <c>queued</c>, <c>denoising</c>, <c>upscaling</c>,
/// <c>encoding</c> or <c>done</c>; <see cref="EtaSeconds"/> is the expected whole seconds until the images are stored
/// (queued and running tasks, see <see cref="TaskEta"/>), null when finished or before the model's first measured run.
/// </summary>
public sealed record TaskResponse(
    Guid Id,
    string Status,
    string Model,
    string Provider,
    string Prompt,
    string? NegativePrompt,
    string Size,
    int Width,
    int Height,
    int Count,
    long Seed,
    int Steps,
    double Guidance,
    string OutputFormat,
    bool HasReferenceImage,
    int Progress,
    string Phase,
    int QueuePosition,
    int? EtaSeconds,
    int Attempts,
    int CreditsReserved,
    int CreditsCharged,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? WorkerName,
    long? ComputeDurationMs,
    long? TotalDurationMs,
    /// <summary>When the owner deleted the task (only admins can still read it then); null otherwise.</summary>
    DateTime? DeletedAt,
    /// <summary>The comparison the task is part of (<c>GET /api/v1/comparisons/{id}</c>); null for a task submitted on its own.</summary>
    Guid? ComparisonId,
    TaskErrorResponse? Error,
    IReadOnlyList<TaskImageResponse> Images)
{
    public static TaskResponse From(TaskView view)
    {
        var t = view.Task;
        return new TaskResponse(t.Id, StatusName(t.Status), t.ModelId, t.Provider, t.Prompt, t.NegativePrompt,
            t.SizeTier.Label(), t.Width, t.Height, t.ImageCount, t.Seed, t.Steps, t.Guidance,
            t.OutputFormat.ToString().ToLowerInvariant(), t.ReferenceImagePath is not null, t.ProgressPercent,
            view.Phase.WireName(), view.QueuePosition, view.EtaSeconds, t.Attempts, t.CreditsReserved, t.CreditsCharged, t.CreatedAt, t.StartedAt, t.FinishedAt,
            t.WorkerName, t.ComputeDurationMs, t.TotalDurationMs, t.DeletedAt, t.ComparisonId,
            t.ErrorCode is null || t.Status is GenerationTaskStatus.Queued or GenerationTaskStatus.Running or GenerationTaskStatus.Succeeded
                ? null : new TaskErrorResponse(t.ErrorCode, t.ErrorMessage ?? ""),
            // A deleted task's files are gone: an admin reading it sees the record, not links that answer 404.
            t.DeletedAt is not null ? [] : t.Images.Select(i => new TaskImageResponse(i.Index, $"/api/v1/tasks/{t.Id}/images/{i.Index}", i.Width, i.Height,
                i.ByteSize, i.Sha256, i.ContentType)).ToList());
    }

    public static string StatusName(GenerationTaskStatus status) => status.ToString().ToLowerInvariant();
}

public sealed record TaskErrorResponse(string Code, string Message);

public sealed record TaskImageResponse(int Index, string Url, int Width, int Height, long ByteSize, string Sha256, string ContentType);

public sealed record TaskListResponse(IReadOnlyList<TaskResponse> Items, int Total, int Page, int PageSize);

/// <summary>Query string of <c>GET /api/v1/tasks</c>.</summary>
public sealed record TaskListQuery(string? Status, string? Model, DateTime? From, DateTime? To, string? Search, int? Page, int? PageSize)
{
    public TaskQuery ToTaskQuery() => new()
    {
        Status = Enum.TryParse<GenerationTaskStatus>(Status, ignoreCase: true, out var status) ? status : null,
        ModelId = Model,
        CreatedFrom = From?.ToUniversalTime(),
        CreatedTo = To?.ToUniversalTime(),
        Search = Search,
        Page = Page ?? 1,
        PageSize = PageSize ?? 20,
    };
}
