using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Tasks;

public static class TasksSetup
{
    /// <summary>The task engine: submission and reads (<see cref="TaskService"/>), the state machine, the queue, events and their caches.</summary>
    public static IHostApplicationBuilder AddBananaLabTasks(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<TaskNotifier>();
        services.AddSingleton<GenerationTimings>(provider => new GenerationTimings(provider.GetRequiredService<TaskNotifier>()));
        services.AddSingleton<ActiveTaskSnapshots>();
        services.AddSingleton<TaskQueueSignal>();
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<TaskTransitions>();
        services.AddSingleton<TaskQueue>();
        services.AddSingleton<TaskService>();
        services.AddSingleton<IdempotencyStore>();
        return builder;
    }
}
