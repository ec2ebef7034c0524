using BananaLab.Core.Data;
using Microsoft.EntityFrameworkCore;

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
