using BananaLab.Core.Generation;
using BananaLab.Worker;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Tests.Infrastructure;

/// <summary>The worker process's own composition (<see cref="WorkerProgram.CreateBuilder"/>), started in the test process.</summary>
public static class WorkerHosts
{
    /// <summary>A started worker host on <paramref name="dataDirectory"/> with the test settings, <paramref name="settings"/> on top, and the scripted generator.</summary>
    public static IHost Start(string dataDirectory, IDictionary<string, string> settings)
    {
        var configuration = BananaLabFactory.TestSettings(dataDirectory);
        foreach (var (key, value) in settings) configuration[key] = value;
        var builder = WorkerProgram.CreateBuilder([$"--contentRoot={RepositoryPaths.Root}", .. configuration.Select(s => $"--{s.Key}={s.Value}")]);
        builder.Services.AddImageGenerator<ScriptedGenerator>();
        var host = builder.Build();
        host.Start();
        return host;
    }
}
