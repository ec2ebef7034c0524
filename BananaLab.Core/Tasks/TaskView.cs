namespace BananaLab.Core.Tasks;

/// <summary>A task as callers see it, with its queue position while it waits.</summary>
public sealed record TaskView(GenerationTask Task, int QueuePosition)
{
    public Guid Id => Task.Id;
    public GenerationTaskStatus Status => Task.Status;
}

/// <summary>Tasks submitted together; <see cref="BatchId"/> is null for a single task.</summary>
public sealed record SubmittedBatch(Guid? BatchId, IReadOnlyList<TaskView> Tasks);
