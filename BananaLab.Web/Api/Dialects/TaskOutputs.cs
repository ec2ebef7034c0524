using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;

namespace BananaLab.Web.Api.Dialects;

/// <summary>A finished task's images as the dialects hand them out: base64 bodies and signed URLs.</summary>
public sealed class TaskOutputs(ImageStore store)
{
    public async Task<IReadOnlyList<string>> Base64Async(TaskSnapshot task, CancellationToken cancellationToken)
    {
        var images = new List<string>(task.Images.Count);
        foreach (var image in task.Images.OrderBy(i => i.Index))
            images.Add(Convert.ToBase64String(await File.ReadAllBytesAsync(store.FullPath(image.FilePath), cancellationToken)));
        return images;
    }

    /// <summary>The live preview of a running task (a small PNG), if the worker has sent one.</summary>
    public static string? PreviewBase64(TaskNotifier notifier, Guid taskId) =>
        notifier.LatestProgress(taskId)?.PreviewPng is { } png ? Convert.ToBase64String(png) : null;

    /// <summary>A one-line, user-readable summary of a task's state.</summary>
    public static string Describe(TaskView view) => view.Task.Status switch
    {
        GenerationTaskStatus.Queued => $"queued, position {view.QueuePosition}",
        GenerationTaskStatus.Running => $"running, {view.Task.ProgressPercent}% done",
        GenerationTaskStatus.Succeeded => $"done: {view.Task.ImageCount} image(s) at {view.Task.Width}x{view.Task.Height}, seed {view.Task.Seed}",
        _ => view.Task.ErrorMessage ?? view.Task.Status.ToString().ToLowerInvariant(),
    };
}
