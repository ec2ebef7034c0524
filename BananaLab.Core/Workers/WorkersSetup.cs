using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Workers;

public static class WorkersSetup
{
    /// <summary>
    /// Which worker serves which model: the registrations every worker renews (<see cref="WorkerDirectory"/>) and the
    /// answer to "can this model run now" (<see cref="ModelAvailability"/>). A process with a worker replaces
    /// <see cref="LocalWorkerModels.None"/> with the models its worker runs (<c>AddBananaLabWorker</c>).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabWorkerDirectory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WorkerDirectory>();
        builder.Services.AddSingleton<ModelAvailability>();
        builder.Services.TryAddSingleton(LocalWorkerModels.None);
        builder.Services.TryAddSingleton<IModelHealthSource, NoModelHealth>();
        return builder;
    }
}
