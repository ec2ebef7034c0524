using BananaLab.Core.Comparisons;
using BananaLab.Web.Api.Tasks;

namespace BananaLab.Web.Api.Comparisons;

/// <summary>
/// Body of <c>POST /api/v1/comparisons</c>: the fields of <c>POST /api/v1/tasks</c> (prompt, size or aspectRatio or
/// width and height, count, seed, steps, guidance, negativePrompt, outputFormat, referenceImage, webhookUrl), sent to each
/// of <see cref="Models"/> (2 to 4 catalog ids, no repeats) instead of one <c>model</c>.
/// </summary>
public sealed record CreateComparisonBody : CreateTaskBody
{
    /// <summary>The models to compare, 2 to 4, in the order their results are shown.</summary>
    public IReadOnlyList<string?>? Models { get; init; }
}

/// <summary>
/// A comparison as the native API returns it: its id (each task's <c>comparisonId</c>), <see cref="Status"/>
/// (<c>running</c> while any task is queued or running, then <c>finished</c>), the summed price of its tasks
/// (<see cref="TotalCredits"/>), what was captured so far (<see cref="CreditsCharged"/>: only the tasks that succeeded),
/// and the tasks themselves in the order of the models.
/// </summary>
public sealed record ComparisonResponse(
    Guid Id,
    string Status,
    DateTime CreatedAt,
    string Prompt,
    IReadOnlyList<string> Models,
    int TotalCredits,
    int CreditsCharged,
    IReadOnlyList<TaskResponse> Tasks)
{
    public static ComparisonResponse From(Comparison comparison) => new(comparison.Id, comparison.IsFinished ? "finished" : "running",
        comparison.CreatedAt, comparison.Tasks[0].Task.Prompt, comparison.Tasks.Select(t => t.Task.ModelId).ToList(),
        comparison.TotalCredits, comparison.CreditsCharged, comparison.Tasks.Select(TaskResponse.From).ToList());
}
