using BananaLab.Core.Idempotency;

namespace BananaLab.Core.Tasks;

/// <summary>
/// The one task engine every entry point (studio, native API, each dialect, admin pages) talks to. Each job lives in
/// its own type: pricing and validation in <see cref="SubmissionValidator"/>, the submission path in
/// <see cref="TaskSubmission"/>, reading and waiting (with the caches) in <see cref="TaskReader"/>, cancel and delete in
/// <see cref="TaskCancellation"/>; a task's state changes after submission are <see cref="TaskTransitions"/>'. This type
/// only names the operations, so an endpoint needs one dependency and stays thin.
/// </summary>
public sealed class TaskService(
    SubmissionValidator validator,
    TaskSubmission submission,
    TaskReader reader,
    TaskCancellation cancellation)
{
    /// <inheritdoc cref="SubmissionValidator.Quote"/>
    public Outcome<PriceQuote> Quote(string? modelId, string? size, int? imageCount, string? aspectRatio = null,
        int? width = null, int? height = null) =>
        validator.Quote(modelId, size, imageCount, aspectRatio, width, height);

    /// <summary>Submits one task (see <see cref="SubmitBatchAsync"/>).</summary>
    /// <param name="idempotencyRecordId">The request's <c>Idempotency-Key</c> claim, linked to the task in its transaction.</param>
    public async Task<Outcome<TaskView>> SubmitAsync(Guid userId, SubmitTaskRequest request, CancellationToken cancellationToken,
        long? idempotencyRecordId = null)
    {
        var submitted = await submission.SubmitBatchAsync(userId, [request], cancellationToken, idempotencyRecordId: idempotencyRecordId);
        return submitted.Succeeded ? submitted.Value!.Tasks[0] : submitted.Error!;
    }

    /// <summary>One task for a synchronous call, as it is when the wait ends (see <see cref="RunBatchSynchronousAsync"/>).</summary>
    public async Task<Outcome<TaskView>> RunSynchronousAsync(Guid userId, SubmitTaskRequest request, SynchronousSubmission synchronous,
        CancellationToken cancellationToken)
    {
        var ran = await submission.RunBatchSynchronousAsync(userId, [request], synchronous, cancellationToken);
        return ran.Succeeded ? ran.Value!.Tasks[0] : ran.Error!;
    }

    /// <inheritdoc cref="TaskSubmission.RunBatchSynchronousAsync"/>
    public Task<Outcome<SubmittedBatch>> RunBatchSynchronousAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        SynchronousSubmission synchronous, CancellationToken cancellationToken, bool alwaysBatch = false) =>
        submission.RunBatchSynchronousAsync(userId, requests, synchronous, cancellationToken, alwaysBatch);

    /// <inheritdoc cref="TaskSubmission.SubmitBatchAsync"/>
    public Task<Outcome<SubmittedBatch>> SubmitBatchAsync(Guid userId, IReadOnlyList<SubmitTaskRequest> requests,
        CancellationToken cancellationToken, bool alwaysBatch = false, long? idempotencyRecordId = null, bool comparison = false) =>
        submission.SubmitBatchAsync(userId, requests, cancellationToken, alwaysBatch, idempotencyRecordId, comparison);

    /// <inheritdoc cref="TaskReader.GetAsync"/>
    public Task<TaskView?> GetAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken) =>
        reader.GetAsync(taskId, ownerId, cancellationToken);

    /// <inheritdoc cref="TaskReader.GetBatchAsync"/>
    public Task<IReadOnlyList<TaskSnapshot>?> GetBatchAsync(Guid batchId, Guid ownerId, CancellationToken cancellationToken) =>
        reader.GetBatchAsync(batchId, ownerId, cancellationToken);

    /// <inheritdoc cref="TaskReader.ListAsync"/>
    public Task<TaskPage> ListAsync(Guid? ownerId, TaskQuery query, CancellationToken cancellationToken) =>
        reader.ListAsync(ownerId, query, cancellationToken);

    /// <inheritdoc cref="TaskReader.GetFinishedAsync"/>
    public Task<TaskView?> GetFinishedAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken) =>
        reader.GetFinishedAsync(taskId, ownerId, cancellationToken);

    /// <inheritdoc cref="TaskReader.WaitAsync"/>
    public Task<TaskView?> WaitAsync(Guid taskId, Guid? ownerId, TimeSpan timeout, CancellationToken cancellationToken) =>
        reader.WaitAsync(taskId, ownerId, timeout, cancellationToken);

    /// <inheritdoc cref="TaskReader.GetImageAsync"/>
    public Task<(TaskImage Image, string FullPath)?> GetImageAsync(Guid taskId, int index, Guid? ownerId, CancellationToken cancellationToken) =>
        reader.GetImageAsync(taskId, index, ownerId, cancellationToken);

    /// <inheritdoc cref="TaskCancellation.CancelAsync"/>
    public Task<Outcome<TaskView>> CancelAsync(Guid taskId, Guid? ownerId, CancellationToken cancellationToken) =>
        cancellation.CancelAsync(taskId, ownerId, cancellationToken);

    /// <inheritdoc cref="TaskCancellation.DeleteAsync"/>
    public Task<Outcome<TaskSnapshot>> DeleteAsync(Guid taskId, Guid ownerId, CancellationToken cancellationToken) =>
        cancellation.DeleteAsync(taskId, ownerId, cancellationToken);
}
