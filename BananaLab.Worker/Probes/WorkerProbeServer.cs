using System.Net;
using BananaLab.Core.Health;
using BananaLab.Worker.Metrics;
using BananaLab.Worker.Queue;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace BananaLab.Worker.Probes;

/// <summary>
/// A worker process has no web server of its own. With <c>Worker:MetricsPort</c> set, this runs a small
/// Kestrel on <c>Worker:MetricsBindAddress</c> (loopback unless set) with three endpoints:
/// <c>/metrics</c> (this process's Prometheus registry), <c>/livez</c> and <c>/readyz</c> (the same
/// checks as a web node, see <see cref="ProbeEndpoints"/>).
/// </summary>
public sealed class WorkerProbeServer(
    NodeMetrics metrics,
    HealthCheckService health,
    IOptions<WorkerOptions> options,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MetricsPort is not (> 0 and var port)) return;
        var address = IPAddress.Parse(options.Value.MetricsBindAddress);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        // The checks run over this process's services: hand the probe server the host's own check service.
        builder.Services.AddSingleton(health);
        _app = builder.Build();
        _app.MapMetrics("/metrics", metrics.Registry);
        _app.MapHealthEndpoints();
        await _app.StartAsync(cancellationToken);
        loggerFactory.CreateLogger<WorkerProbeServer>().LogInformation(
            "Metrics and probes on http://{Address}:{Port}/metrics, /livez and /readyz", options.Value.MetricsBindAddress, port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
