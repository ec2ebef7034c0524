using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.BentoML;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace BananaLab.Tests.Data;

/// <summary>
/// Migrations that rename stored values, run as an upgrade would on SQLite and on PostgreSQL: back to the schema before
/// the rename with a row as the old code stored it, then forward. BentoMLSource: the BentoML-style dialect's tasks and
/// moderation decisions stored as <c>bento</c>. NoImageCode: runs that made no image, stored as <c>no_image_produced</c>.
/// </summary>
public abstract class RenameMigrationTests(BananaLabFactory app)
{
    [Fact]
    public async Task Tasks_stored_under_the_old_name_read_as_bentoml_after_the_migration()
    {
        var taskId = await SubmitAsync("stored before the rename", source: "bento");

        await UpgradeAcrossAsync("BentoMLSource", async db => Assert.Equal("bento", await SourceOfAsync(db, taskId)));

        await using var migrated = await CreateContextAsync();
        Assert.Equal(BentoMLApi.Name, await SourceOfAsync(migrated, taskId));
        Assert.All(await migrated.Set<Core.Moderation.ModerationDecisionRecord>().Where(d => d.TaskId == taskId).Select(d => d.Source).ToListAsync(),
            source => Assert.Equal(BentoMLApi.Name, source));
    }

    [Fact]
    public async Task Runs_that_made_no_image_read_as_no_image_after_the_migration()
    {
        var taskId = await SubmitAsync("failed before the rename");
        // Ended before its row is rewritten, so that no worker's settlement overwrites the code afterwards.
        var tasks = app.Services.GetRequiredService<TaskService>();
        await tasks.CancelAsync(taskId, null, default);
        Assert.True((await tasks.WaitAsync(taskId, null, TimeSpan.FromSeconds(30), default))!.Task.IsTerminal);

        await UpgradeAcrossAsync("NoImageCode", db =>
            db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.ErrorCode, "no_image_produced")));

        await using var migrated = await CreateContextAsync();
        Assert.Equal(TaskErrors.NoImage, await migrated.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.ErrorCode).SingleAsync());
    }

    private async Task<Guid> SubmitAsync(string prompt, string source = "api")
    {
        var (user, _) = await app.CreateUserAsync();
        var submitted = await app.Services.GetRequiredService<TaskService>().SubmitAsync(user.Id,
            new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = prompt, Source = source }, default);
        return submitted.Value!.Id;
    }

    /// <summary>Migrates back to just before <paramref name="migration"/>, runs <paramref name="before"/> there, then migrates forward.</summary>
    private async Task UpgradeAcrossAsync(string migration, Func<BananaLabDbContext, Task> before)
    {
        await using var db = await CreateContextAsync();
        var migrations = db.Database.GetMigrations().ToList();
        var index = migrations.FindIndex(m => m.EndsWith("_" + migration, StringComparison.Ordinal));
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(migrations[index - 1]);
        await before(db);
        await migrator.MigrateAsync();
    }

    private Task<BananaLabDbContext> CreateContextAsync() =>
        app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();

    private static Task<string> SourceOfAsync(BananaLabDbContext db, Guid taskId) =>
        db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Source).SingleAsync();
}

public sealed class SqliteRenameMigrationTests(NoWorkerFactory app) : RenameMigrationTests(app), IClassFixture<NoWorkerFactory>;

public sealed class PostgresRenameMigrationTests(PostgresFactory app) : RenameMigrationTests(app), IClassFixture<PostgresFactory>;
