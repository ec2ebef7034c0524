using BananaLab.Core;
using BananaLab.Core.Health;
using BananaLab.Worker.Metrics;
using BananaLab.Worker.Probes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Worker;

/// <summary>
/// A worker process of its own: <c>dotnet run --project BananaLab.Worker</c> joins the database (and
/// Redis) named in the configuration and runs tasks of the models it serves, with no web server.
/// Every setting comes from appsettings.json, environment variables (<c>Worker__Name=gpu-1</c>) or
/// the command line (<c>--Worker:Name gpu-1 --Worker:Models:0 banana-nano</c>).
/// </summary>
public static class WorkerProgram
{
    public static async Task<int> Main(string[] args)
    {
        var builder = CreateBuilder(args);
        using var host = builder.Build();
        return await host.RunUntilStoppedAsync();
    }

    /// <summary>The worker process's services; the tests start the same composition with a scripted generator added.</summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.AddBananaLabCore();
        builder.AddBananaLabGeneration();
        builder.AddBananaLabHealth();
        builder.Services.AddHostedService<WorkerProbeServer>();
        return builder;
    }
}
