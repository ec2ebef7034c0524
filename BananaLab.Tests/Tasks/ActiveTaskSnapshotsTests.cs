using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Tasks;

public sealed class ActiveTaskSnapshotsTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static TaskSnapshot Task(GenerationTaskStatus status) => new()
    {
        Id = Guid.NewGuid(), UserId = Guid.NewGuid(), ModelId = "m", Provider = "p", Prompt = "x", Status = status,
    };

    [Fact]
    public void A_copy_lives_for_its_lifetime_only()
    {
        var clock = new ManualClock();
        using var snapshots = new ActiveTaskSnapshots(new TaskNotifier(), clock);
        var task = Task(GenerationTaskStatus.Queued);

        snapshots.Remember(task, queuePosition: 3, snapshots.Stamp());
        clock.Advance(ActiveTaskSnapshots.Lifetime - TimeSpan.FromMilliseconds(1));
        Assert.True(snapshots.TryGet(task.Id, out var copy, out var position));
        Assert.Equal(task.Id, copy.Id);
        Assert.Equal(3, position);
        // A reader that shows something newer makes its own copy: what the next one sees is unchanged.
        var changed = copy with { Status = GenerationTaskStatus.Canceled };
        Assert.True(snapshots.TryGet(task.Id, out var again, out _));
        Assert.Equal(GenerationTaskStatus.Queued, again.Status);
        Assert.Equal(GenerationTaskStatus.Canceled, changed.Status);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(snapshots.TryGet(task.Id, out _, out _));
    }

    [Fact]
    public void Any_event_but_progress_drops_the_copy_and_finished_tasks_are_never_kept()
    {
        var notifier = new TaskNotifier();
        using var snapshots = new ActiveTaskSnapshots(notifier, new ManualClock());
        var task = Task(GenerationTaskStatus.Running);
        snapshots.Remember(task, 0, snapshots.Stamp());

        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Progress, GenerationTaskStatus.Running, 40));
        Assert.True(snapshots.TryGet(task.Id, out _, out _));
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Succeeded, GenerationTaskStatus.Succeeded, 100));
        Assert.False(snapshots.TryGet(task.Id, out _, out _));

        var done = Task(GenerationTaskStatus.Failed);
        snapshots.Remember(done, 0, snapshots.Stamp());
        Assert.False(snapshots.TryGet(done.Id, out _, out _));
    }
}

public sealed class ActiveTaskSnapshotRaceTests
{
    [Fact]
    public void A_read_that_an_event_overtook_is_not_kept()
    {
        var notifier = new TaskNotifier();
        using var snapshots = new ActiveTaskSnapshots(notifier, TimeProvider.System);
        var task = new TaskSnapshot { Id = Guid.NewGuid(), UserId = Guid.NewGuid(), ModelId = "m", Provider = "p", Prompt = "x", Status = GenerationTaskStatus.Running };

        var stamp = snapshots.Stamp();        // the read starts...
        notifier.Publish(new TaskEvent(task.Id, task.UserId, TaskEventKind.Succeeded, GenerationTaskStatus.Succeeded, 100));
        snapshots.Remember(task, 0, stamp);   // ...and ends after the task finished: its "running" copy is stale

        Assert.False(snapshots.TryGet(task.Id, out _, out _));
    }
}

/// <summary>Status reads of a waiting task through the service, with a change made behind its back.</summary>
public sealed class ActiveTaskReadTests(NoWorkerFactory app) : IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task A_change_from_another_process_shows_once_the_copy_expires_and_cancel_shows_at_once()
    {
        var (user, _) = await app.CreateUserAsync();
        var tasks = app.Services.GetRequiredService<TaskService>();
        var created = (await tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "a kite" }, default)).Value!;
        Assert.Equal(GenerationTaskStatus.Queued, (await tasks.GetAsync(created.Id, user.Id, default))!.Status);

        // Another process (another web node's worker) changes the row directly.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
            await db.Tasks.Where(t => t.Id == created.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.ProgressPercent, 37));
        await System.Threading.Tasks.Task.Delay(ActiveTaskSnapshots.Lifetime + TimeSpan.FromMilliseconds(50));
        Assert.Equal(37, (await tasks.GetAsync(created.Id, user.Id, default))!.Task.ProgressPercent);

        // A change made through this process is visible immediately.
        await tasks.CancelAsync(created.Id, user.Id, default);
        Assert.Equal(GenerationTaskStatus.Canceled, (await tasks.GetAsync(created.Id, user.Id, default))!.Status);
        // And someone else's id stays hidden, cached or not.
        Assert.Null(await tasks.GetAsync(created.Id, Guid.NewGuid(), default));
    }
}
