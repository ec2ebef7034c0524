namespace BananaLab.Core.Tasks;

/// <summary>
/// One run of a task by one worker, from its claim to its end. A task retried after a failure, or
/// taken over after its worker died, has one row per run. <see cref="GenerationTask.StartedAt"/>
/// stays the first run's start.
/// </summary>
public sealed class TaskAttempt
{
    public long Id { get; set; }
    public Guid TaskId { get; set; }
    /// <summary>The task's attempt count when this run claimed it (a run handed back at shutdown does not count, so a number can repeat).</summary>
    public int Number { get; set; }
    public required string WorkerName { get; set; }
    public DateTime StartedAt { get; set; }
    /// <summary>Null while the run goes on.</summary>
    public DateTime? EndedAt { get; set; }
    public TaskAttemptOutcome? Outcome { get; set; }
    public string? ErrorCode { get; set; }
}

/// <summary>How a run ended.</summary>
public enum TaskAttemptOutcome
{
    Succeeded,
    /// <summary>Failed for good: the task failed.</summary>
    Failed,
    /// <summary>Failed transiently: the task went back to the queue for another attempt.</summary>
    Retried,
    Canceled,
    /// <summary>Handed back untouched when its worker shut down gracefully.</summary>
    Released,
    /// <summary>Its worker stopped renewing the lease (a crash or a hang) and the lease ran out.</summary>
    LeaseExpired,
    /// <summary>Its worker restarted under the same name, so the run it had was gone, lease or not.</summary>
    Orphaned,
}
