using System.Collections.Concurrent;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.ScaleOut;

/// <summary>The task engine on a real PostgreSQL server: the same behaviour as on SQLite, through the provider's own SQL.</summary>
public sealed class PostgresEngineTests : IClassFixture<PostgresEngineTests.Factory>
{
    public sealed class Factory : PostgresFactory;

    private readonly Factory _factory;

    public PostgresEngineTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task Submitted_task_runs_to_completion_and_is_charged_once()
    {
        var (user, key) = await _factory.CreateUserAsync(credits: 100);
        using var client = _factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "a banana on postgres", count = 2 });
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal("succeeded", done.Status);
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        Assert.IsType<Core.Data.Postgres.PostgresDbContext>(db);
        var entries = await db.CreditEntries.Where(e => e.TaskId == created.Id).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        Assert.Equal([CreditEntryKind.Reserve, CreditEntryKind.Capture], entries);
        Assert.Equal(90, (await db.Users.SingleAsync(u => u.Id == user.Id)).CreditBalance);
        Assert.Equal(2, await db.TaskImages.CountAsync(i => i.TaskId == created.Id));
    }
}
