using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Studio;

/// <summary>Hands out the app's contexts only once the test opens the gate, so pages can be seen while they load.</summary>
internal sealed class GatedDbContextFactory(IDbContextFactory<BananaLabDbContext> inner) : IDbContextFactory<BananaLabDbContext>
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    public BananaLabDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<BananaLabDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default)
    {
        await _gate.Task.WaitAsync(cancellationToken);
        return inner.CreateDbContext();
    }
}

/// <summary>A database that is down: every context fails with a technical message no page may show.</summary>
internal sealed class FailingDbContextFactory : IDbContextFactory<BananaLabDbContext>
{
    public const string Detail = "SQLite Error 10: disk I/O error (test)";

    public BananaLabDbContext CreateDbContext() => throw new InvalidOperationException(Detail);
}

/// <summary>The app's task service, except that it reads tasks through <paramref name="reads"/> and a cache of its own.</summary>
internal static class TaskServiceReading
{
    public static TaskService From(IServiceProvider app, IDbContextFactory<BananaLabDbContext> reads)
    {
        var reader = ActivatorUtilities.CreateInstance<TaskReader>(app, reads, ActivatorUtilities.CreateInstance<FinishedTaskCache>(app));
        return ActivatorUtilities.CreateInstance<TaskService>(app, reader);
    }
}
