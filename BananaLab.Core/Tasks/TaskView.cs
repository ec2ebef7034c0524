namespace BananaLab.Core.Tasks;

/// <summary>A task as callers see it, with its queue position while it waits.</summary>
public sealed record TaskView(GenerationTask Task, int QueuePosition)
{
    public Guid Id => Task.Id;
    public GenerationTaskStatus Status => Task.Status;
}
