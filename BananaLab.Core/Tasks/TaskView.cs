using BananaLab.Core.Generation;

namespace BananaLab.Core.Tasks;

/// <summary>
/// A task as callers see it, with its queue position while it waits, its expected seconds until its images are
/// stored (<see cref="TaskEta"/>; null when finished or not yet measurable) and, while running, the phase its
/// worker last reported.
/// </summary>
public sealed record TaskView(TaskSnapshot Task, int QueuePosition, int? EtaSeconds = null, GenerationPhase? LivePhase = null)
{
    public Guid Id => Task.Id;
    public GenerationTaskStatus Status => Task.Status;

    /// <summary>queued → denoising → upscaling → encoding → done; a running task without a live report is denoising.</summary>
    public GenerationPhase Phase => Task.Status == GenerationTaskStatus.Running && LivePhase is { } live ? live : TaskPhases.Of(Task.Status);
}

public static class TaskPhases
{
    /// <summary>The phase a status implies on its own: queued, denoising (running) or done (finished, whichever way).</summary>
    public static GenerationPhase Of(GenerationTaskStatus status) => status switch
    {
        GenerationTaskStatus.Queued => GenerationPhase.Queued,
        GenerationTaskStatus.Running => GenerationPhase.Denoising,
        _ => GenerationPhase.Done,
    };
}

/// <summary>Tasks submitted together; <see cref="BatchId"/> is null for a single task.</summary>
public sealed record SubmittedBatch(Guid? BatchId, IReadOnlyList<TaskView> Tasks);
