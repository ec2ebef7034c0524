using BananaLab.Core.Generation;
using BananaLab.Core.Idempotency;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Tasks;

public static class TasksSetup
{
    /// <summary>
    /// The task engine: <see cref="TaskService"/> and its parts (validation, submission, reading with its caches,
    /// cancellation), the state machine, the queue and the task events.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabTasks(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TasksOptions>().Bind(builder.Configuration.GetSection(TasksOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TaskNotifier>();
        services.AddSingleton<GenerationTimings>(provider => new GenerationTimings(provider.GetRequiredService<TaskNotifier>()));
        services.AddSingleton<ActiveTaskSnapshots>();
        services.AddSingleton<TaskQueueSignal>();
        services.AddSingleton<RunningTasks>();
        services.AddSingleton<TaskTransitions>();
        services.AddSingleton<TaskQueue>();
        services.AddSingleton<FinishedTaskCache>();
        services.AddSingleton<SubmissionValidator>();
        services.AddSingleton<TaskReader>();
        services.AddSingleton<SubmitGroupCommit>();
        services.AddSingleton<TaskSubmission>();
        services.AddSingleton<TaskCancellation>();
        services.AddSingleton<TaskService>();
        services.AddSingleton<Comparisons.ComparisonService>();
        services.AddSingleton<IdempotencyStore>();
        return builder;
    }
}
