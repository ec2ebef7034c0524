using BananaLab.Core.Webhooks;

namespace BananaLab.Core.Tasks;

/// <summary>
/// A task as one read found it, for every reader: pages, the API and its dialects, and the caches behind
/// <see cref="TaskService"/>. Immutable, so a cached snapshot is handed to every reader as it is, and a reader
/// that shows something newer (a live percent, an end it just heard) makes its own copy with <c>with</c>. The
/// stored, mutable <see cref="GenerationTask"/> stays inside the task engine.
/// </summary>
public sealed record TaskSnapshot
{
    public required Guid Id { get; init; }
    public required Guid UserId { get; init; }
    public required string ModelId { get; init; }
    public required string Provider { get; init; }
    public required string Prompt { get; init; }
    public string? NegativePrompt { get; init; }
    public SizeTier SizeTier { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public int ImageCount { get; init; }
    public long Seed { get; init; }
    public int Steps { get; init; }
    public double Guidance { get; init; }
    public OutputFormat OutputFormat { get; init; }
    /// <summary>Path of the stored reference image, relative to the data directory.</summary>
    public string? ReferenceImagePath { get; init; }
    public double? ReferenceStrength { get; init; }
    public Images.ReferenceFit ReferenceFit { get; init; }
    public GenerationTaskStatus Status { get; init; }
    public int ProgressPercent { get; init; }
    public int Attempts { get; init; }
    public bool CancelRequested { get; init; }
    public int CreditsReserved { get; init; }
    public int CreditsCharged { get; init; }
    public DateTime CreatedAt { get; init; }
    /// <summary>When the first run started (every run: <see cref="TaskAttempt"/>).</summary>
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public DateTime? NotBefore { get; init; }
    public string? WorkerName { get; init; }
    public DateTime? LeaseExpiresAt { get; init; }
    public long? ComputeDurationMs { get; init; }
    public long? TotalDurationMs { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    public string Source { get; init; } = "api";
    public Guid? BatchId { get; init; }
    public int BatchIndex { get; init; }
    public string? BatchKey { get; init; }
    /// <summary>The comparison the task belongs to (<see cref="GenerationTask.ComparisonId"/>); null for a task on its own.</summary>
    public Guid? ComparisonId { get; init; }
    public string? WebhookUrl { get; init; }
    public WebhookFormat WebhookFormat { get; init; }
    public DateTime? DeletedAt { get; init; }
    /// <summary>The stored images, by index.</summary>
    public IReadOnlyList<TaskImage> Images { get; init; } = [];

    public bool IsTerminal => Status is GenerationTaskStatus.Succeeded or GenerationTaskStatus.Failed
        or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked;

    /// <summary>The snapshot of a task as read from the store (its images in index order).</summary>
    public static TaskSnapshot Of(GenerationTask task) => new()
    {
        Id = task.Id, UserId = task.UserId, ModelId = task.ModelId, Provider = task.Provider, Prompt = task.Prompt,
        NegativePrompt = task.NegativePrompt, SizeTier = task.SizeTier, Width = task.Width, Height = task.Height,
        ImageCount = task.ImageCount, Seed = task.Seed, Steps = task.Steps, Guidance = task.Guidance, OutputFormat = task.OutputFormat,
        ReferenceImagePath = task.ReferenceImagePath, ReferenceStrength = task.ReferenceStrength, ReferenceFit = task.ReferenceFit, Status = task.Status,
        ProgressPercent = task.ProgressPercent, Attempts = task.Attempts, CancelRequested = task.CancelRequested,
        CreditsReserved = task.CreditsReserved, CreditsCharged = task.CreditsCharged, CreatedAt = task.CreatedAt,
        StartedAt = task.StartedAt, FinishedAt = task.FinishedAt, NotBefore = task.NotBefore, WorkerName = task.WorkerName,
        LeaseExpiresAt = task.LeaseExpiresAt, ComputeDurationMs = task.ComputeDurationMs, TotalDurationMs = task.TotalDurationMs,
        ErrorCode = task.ErrorCode, ErrorMessage = task.ErrorMessage, Source = task.Source, BatchId = task.BatchId,
        BatchIndex = task.BatchIndex, BatchKey = task.BatchKey, ComparisonId = task.ComparisonId, WebhookUrl = task.WebhookUrl, WebhookFormat = task.WebhookFormat,
        DeletedAt = task.DeletedAt, Images = [.. task.Images.OrderBy(i => i.Index)],
    };
}
