using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.BentoML;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace BananaLab.Tests.Data;

/// <summary>
/// The BentoML-style dialect stored its tasks' source as <c>bento</c> before it had one name; the BentoMLSource
/// migration renames those rows (tasks and their moderation decisions) on SQLite and on PostgreSQL.
/// </summary>
public abstract class BentoMLSourceMigrationTests(BananaLabFactory app)
{
    private const string OldName = "bento";

    [Fact]
    public async Task Tasks_stored_under_the_old_name_read_as_bentoml_after_the_migration()
    {
        var (user, _) = await app.CreateUserAsync();
        var submitted = await app.Services.GetRequiredService<Core.Tasks.TaskService>().SubmitAsync(user.Id,
            new Core.Tasks.SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "stored before the rename", Source = OldName }, default);
        var taskId = submitted.Value!.Id;

        await using (var db = await CreateContextAsync())
        {
            // Back to the schema before the rename (its Down leaves an old row alone), then forward again as an upgrade would.
            var migrations = db.Database.GetMigrations().ToList();
            var rename = migrations.FindIndex(m => m.EndsWith("_BentoMLSource", StringComparison.Ordinal));
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync(migrations[rename - 1]);
            Assert.Equal(OldName, await SourceOfAsync(db, taskId));
            await migrator.MigrateAsync();
        }

        await using var migrated = await CreateContextAsync();
        Assert.Equal(BentoMLApi.Name, await SourceOfAsync(migrated, taskId));
        Assert.All(await migrated.Set<Core.Moderation.ModerationDecisionRecord>().Where(d => d.TaskId == taskId).Select(d => d.Source).ToListAsync(),
            source => Assert.Equal(BentoMLApi.Name, source));
    }

    private Task<BananaLabDbContext> CreateContextAsync() =>
        app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();

    private static Task<string> SourceOfAsync(BananaLabDbContext db, Guid taskId) =>
        db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Source).SingleAsync();
}

public sealed class SqliteBentoMLSourceMigrationTests(NoWorkerFactory app) : BentoMLSourceMigrationTests(app), IClassFixture<NoWorkerFactory>;

public sealed class PostgresBentoMLSourceMigrationTests(PostgresFactory app) : BentoMLSourceMigrationTests(app), IClassFixture<PostgresFactory>;
