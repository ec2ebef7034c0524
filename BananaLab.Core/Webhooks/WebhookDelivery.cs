namespace BananaLab.Core.Webhooks;

/// <summary>
/// One webhook call to make (an outbox row written in the same transaction as the task's final state),
/// retried with backoff until delivered or too old. Its rows are the task's delivery log.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? TaskId { get; set; }
    public Guid? BatchId { get; set; }
    public required string Url { get; set; }
    /// <summary>task.succeeded, task.failed, task.canceled, or fastdeploy.result for a whole batch.</summary>
    public required string EventType { get; set; }
    public WebhookDeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? DeliveredAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
}

public enum WebhookDeliveryStatus
{
    Pending = 0,
    Delivered = 1,
    /// <summary>Gave up: the retry window passed without a 2xx answer.</summary>
    Failed = 2,
}

/// <summary>How a task's webhook body is shaped: BananaLab's own event, or fastDeploy's batch result.</summary>
public enum WebhookFormat
{
    Event = 0,
    FastDeploy = 1,
}
