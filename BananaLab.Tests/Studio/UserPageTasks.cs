using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Studio;

/// <summary>Submits tasks through the real engine for the history, task and credits page tests.</summary>
internal static class UserPageTasks
{
    public static async Task<TaskSnapshot> SubmitAsync(TaskService tasks, Guid userId, string prompt,
        string model = BananaLabFactory.TestModel, bool waitUntilDone = true, SubmitTaskRequest? request = null)
    {
        var submitted = await tasks.SubmitAsync(userId, (request ?? new SubmitTaskRequest()) with
        {
            ModelId = model, Prompt = prompt, Source = "studio",
        }, CancellationToken.None);
        Assert.True(submitted.Succeeded, submitted.Error?.ToString());
        if (!waitUntilDone) return submitted.Value!.Task;
        var view = await tasks.WaitAsync(submitted.Value!.Id, userId, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(view!.Task.IsTerminal, $"Task '{prompt}' did not finish in time (status {view.Task.Status}).");
        return view.Task;
    }
}
