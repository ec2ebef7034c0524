namespace BananaLab.Core.Tasks;

/// <summary>
/// One image-generation request, from submission to its final state: the stored row, changed only by submission and
/// <see cref="TaskTransitions"/>. Readers get a <see cref="TaskSnapshot"/>.
/// </summary>
public sealed class GenerationTask
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }

    public required string ModelId { get; set; }
    public required string Provider { get; set; }
    public required string Prompt { get; set; }
    public string? NegativePrompt { get; set; }

    public SizeTier SizeTier { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public int ImageCount { get; set; }
    public long Seed { get; set; }
    public int Steps { get; set; }
    public double Guidance { get; set; }
    public OutputFormat OutputFormat { get; set; }

    /// <summary>Path of the stored reference image, relative to the data directory.</summary>
    public string? ReferenceImagePath { get; set; }
    public double? ReferenceStrength { get; set; }
    /// <summary>How the reference is framed when its aspect differs from the output's.</summary>
    public Images.ReferenceFit ReferenceFit { get; set; }

    public GenerationTaskStatus Status { get; set; }
    public int ProgressPercent { get; set; }
    public int Attempts { get; set; }
    public bool CancelRequested { get; set; }

    public int CreditsReserved { get; set; }
    public int CreditsCharged { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>A retried task is not claimed before this time (backoff).</summary>
    public DateTime? NotBefore { get; set; }

    public string? WorkerName { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }

    public long? ComputeDurationMs { get; set; }
    public long? TotalDurationMs { get; set; }

    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }

    /// <summary>Where the task came from: studio, api, banana, openai, ...</summary>
    public string Source { get; set; } = "api";

    /// <summary>Tasks submitted together (a fastDeploy batch) share a batch id; the index keeps their order.</summary>
    public Guid? BatchId { get; set; }
    public int BatchIndex { get; set; }
    /// <summary>The caller's name for this item of the batch (a file name of a FILE request).</summary>
    public string? BatchKey { get; set; }

    /// <summary>
    /// The comparison this task belongs to (one prompt and settings sent to 2–4 models, <c>POST /api/v1/comparisons</c>):
    /// the id its sibling tasks share, which is also their <see cref="BatchId"/>. Null for a task submitted on its own.
    /// </summary>
    public Guid? ComparisonId { get; set; }

    /// <summary>Called when the task ends (in <see cref="WebhookFormat"/>), besides the account's webhook.</summary>
    public string? WebhookUrl { get; set; }
    public Webhooks.WebhookFormat WebhookFormat { get; set; }

    /// <summary>
    /// Where the task was created: the scheme, host and path base of that request (<c>https://lab.example.com</c>), for the
    /// image links in its webhook payload when <c>Webhooks:PublicBaseUrl</c> is empty. Null when no request made it.
    /// </summary>
    public string? Origin { get; set; }

    /// <summary>
    /// When the owner deleted the task: its image files are gone and it no longer appears to them, while the
    /// row and its credit ledger entries stay as the record of what was charged. Admins still see it.
    /// </summary>
    public DateTime? DeletedAt { get; set; }

    public List<TaskImage> Images { get; set; } = [];

    public bool IsTerminal => Status is GenerationTaskStatus.Succeeded or GenerationTaskStatus.Failed
        or GenerationTaskStatus.Canceled or GenerationTaskStatus.Blocked;
}

public enum GenerationTaskStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Canceled = 4,
    /// <summary>Refused by moderation: never queued, never charged.</summary>
    Blocked = 5,
}

public enum OutputFormat
{
    Png = 0,
    Jpeg = 1,
    Webp = 2,
}

public static class OutputFormats
{
    public static string ContentType(this OutputFormat format) => format switch
    {
        OutputFormat.Jpeg => "image/jpeg",
        OutputFormat.Webp => "image/webp",
        _ => "image/png",
    };

    public static string Extension(this OutputFormat format) => format switch
    {
        OutputFormat.Jpeg => ".jpg",
        OutputFormat.Webp => ".webp",
        _ => ".png",
    };

    public static bool TryParse(string? value, out OutputFormat format)
    {
        format = OutputFormat.Png;
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "png" or "image/png": return true;
            case "jpg" or "jpeg" or "image/jpeg": format = OutputFormat.Jpeg; return true;
            case "webp" or "image/webp": format = OutputFormat.Webp; return true;
            default: return false;
        }
    }
}

/// <summary>One stored output image of a task.</summary>
public sealed class TaskImage
{
    public long Id { get; set; }
    public Guid TaskId { get; set; }
    public int Index { get; set; }
    /// <summary>Relative to the data directory.</summary>
    public required string FilePath { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public long ByteSize { get; set; }
    public required string Sha256 { get; set; }
    public required string ContentType { get; set; }
}
