using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Infrastructure;

/// <summary>For tests that drive the queue by hand over a host's services.</summary>
public static class QueueTestTasks
{
    /// <summary>Submits a task through the real <see cref="TaskService"/> and returns its id.</summary>
    public static async Task<Guid> SubmitTestTaskAsync(this IServiceProvider services, Guid userId, string prompt,
        string model = BananaLabFactory.TestModel)
    {
        var outcome = await services.GetRequiredService<TaskService>()
            .SubmitAsync(userId, new SubmitTaskRequest { ModelId = model, Prompt = prompt }, default);
        return outcome.Value?.Id ?? throw new InvalidOperationException(outcome.Error?.ToString());
    }

    /// <summary>Tests share one database; tasks other tests left queued must not be claimed by this one.</summary>
    public static async Task HoldQueuedTasksAsync(this IServiceProvider services)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        await db.Tasks.Where(t => t.Status == GenerationTaskStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.NotBefore, DateTime.UtcNow.AddYears(1)));
    }

    public static async Task<GenerationTask> LoadTaskAsync(this IServiceProvider services, Guid id)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == id);
    }
}
