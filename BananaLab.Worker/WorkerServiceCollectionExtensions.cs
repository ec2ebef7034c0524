using BananaLab.Core.Catalog;
using BananaLab.Core.Data;
using BananaLab.Core.Data.Postgres;
using BananaLab.Core.Generation;
using BananaLab.Core.Health;
using BananaLab.Core.Workers;
using BananaLab.Worker.Metrics;
using BananaLab.Worker.Queue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>The background worker that claims queued tasks and runs their generators.</summary>
    public static IHostApplicationBuilder AddBananaLabWorker(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => System.Net.IPAddress.TryParse(o.MetricsBindAddress, out _),
                "Worker:MetricsBindAddress must be an IP address such as 127.0.0.1, ::1 or 0.0.0.0.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, WorkerOptionsValidator>();
        builder.Services.AddSingleton<NodeMetrics>();
        builder.Services.AddSingleton<BatchMetrics>();
        var options = builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        if (!options.Enabled) return builder;

        builder.Services.Replace(ServiceDescriptor.Singleton(provider => ServedModels.Resolve(
            provider.GetRequiredService<IOptions<WorkerOptions>>().Value, provider.GetRequiredService<ModelCatalog>(),
            provider.GetRequiredService<GenerationProviders>())));
        builder.Services.AddSingleton<UnservedTasks>();
        builder.Services.AddSingleton<ModelCircuits>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IModelHealthSource>(provider => provider.GetRequiredService<ModelCircuits>()));
        builder.Services.AddHealthChecks().AddCheck<ProvidersCheck>("providers", tags: [HealthChecks.ReadyTag]);
        builder.Services.AddHostedService<TaskWorker>();
        builder.Services.AddHostedService<WorkerPresence>();
        builder.Services.AddHostedService<WorkerMetrics>();
        // Readiness now also waits for the worker loops.
        builder.Services.Replace(ServiceDescriptor.Singleton(new Readiness { WorkerExpected = true }));
        // Idle loops wake on the database's own notifications when other nodes queue tasks.
        if (DatabaseOptions.Read(builder.Configuration).Provider == DatabaseEngine.Postgres)
            builder.Services.AddHostedService<PostgresQueueListener>();
        // Leave the host time to let running tasks finish (and then hand them back) on shutdown.
        builder.Services.Configure<HostOptions>(host =>
        {
            var needed = TimeSpan.FromSeconds(options.ShutdownGraceSeconds + 10);
            if (host.ShutdownTimeout < needed) host.ShutdownTimeout = needed;
        });
        return builder;
    }
}
