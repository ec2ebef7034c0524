using BananaLab.Core.Data;
using BananaLab.Worker.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Worker;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>The background worker that claims queued tasks and runs their generators.</summary>
    public static IHostApplicationBuilder AddBananaLabWorker(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        var enabled = builder.Configuration.GetValue($"{WorkerOptions.Section}:{nameof(WorkerOptions.Enabled)}", true);
        if (enabled)
        {
            builder.Services.AddHostedService<TaskWorker>();
            // Readiness now also waits for the worker loops.
            builder.Services.Replace(ServiceDescriptor.Singleton(new Readiness { WorkerExpected = true }));
        }
        return builder;
    }
}
