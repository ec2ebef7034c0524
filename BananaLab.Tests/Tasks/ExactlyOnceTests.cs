using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Credits;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Tasks;

/// <summary>Exactly one charged task per request under client drops and retries, and a cancel that never loses to settlement.</summary>
public sealed class ExactlyOnceTests(NoWorkerFactory factory) : IClassFixture<NoWorkerFactory>
{
    private TaskService Tasks => factory.Services.GetRequiredService<TaskService>();
    private TaskQueue Queue => factory.Services.GetRequiredService<TaskQueue>();
    private CreditLedger Ledger => factory.Services.GetRequiredService<CreditLedger>();

    [Fact]
    public async Task Client_that_drops_the_connection_right_after_the_commit_and_retries_gets_one_task()
    {
        var (user, apiKey) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(apiKey);
        using var drop = new CancellationTokenSource();
        // The fault at the exact point: the task and its reservation are committed, the response is not written yet.
        using var _ = factory.Services.GetRequiredService<TaskNotifier>().SubscribeAll(e =>
        {
            if (e.UserId == user.Id && e.Kind == TaskEventKind.Queued) drop.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SubmitAsync(client, "key-1", "dropped once", drop.Token));
        var retried = await SubmitUntilSettledAsync(client, "key-1", "dropped once");

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal("true", retried.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await CountTasksAsync(user.Id));
        Assert.Equal(95, await Ledger.GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_request_that_failed_after_its_task_committed_is_answered_from_that_task_on_retry()
    {
        var (user, apiKey) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(apiKey);
        var store = factory.Services.GetRequiredService<Core.Idempotency.IdempotencyStore>();
        var body = await JsonContent.Create(new { model = BananaLabFactory.TestModel, prompt = "committed, then lost" }).ReadAsByteArrayAsync();
        var claim = Assert.IsType<Core.Idempotency.IdempotencyClaim.Fresh>(
            await store.ClaimAsync(user.Id, "key-2", "tasks.create", Core.Idempotency.IdempotencyStore.HashRequest(body), default));

        // The first request: its task commits (linked to the key in the same transaction), then it fails before storing
        // the response, and the failure path abandons the key as it would after any exception.
        var submitted = await Tasks.SubmitAsync(user.Id, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = "committed, then lost" },
            default, claim.RecordId);
        await store.AbandonAsync(claim.RecordId, default);
        var retried = await SubmitAsync(client, "key-2", "committed, then lost", default);

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(submitted.Value!.Id.ToString(), (await retried.ReadJsonAsync()).GetProperty("id").GetString());
        Assert.Equal(1, await CountTasksAsync(user.Id));
        Assert.Equal(HttpStatusCode.Created, (await SubmitAsync(client, "key-2", "committed, then lost", default)).StatusCode);
        Assert.Equal(95, await Ledger.GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_idempotency_key_make_one_task()
    {
        var (user, apiKey) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(apiKey);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SubmitAsync(client, "same-key", "raced", default)));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        Assert.Equal(1, await CountTasksAsync(user.Id));
    }

    [Fact]
    public async Task Cancel_before_the_settlement_wins_and_releases_the_credits()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var task = await ClaimOwnTaskAsync(user.Id, "cancel first");

        Assert.True((await Tasks.CancelAsync(task.Id, user.Id, default)).Succeeded);
        Assert.False(await Queue.CompleteAsync(task, "w-cancel", [], 10, default));

        var settled = await factory.Services.LoadTaskAsync(task.Id);
        Assert.Equal(GenerationTaskStatus.Canceled, settled.Status);
        Assert.Equal(0, settled.CreditsCharged);
        Assert.Equal(100, await Ledger.GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Cancel_after_the_settlement_answers_not_cancelable()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var task = await ClaimOwnTaskAsync(user.Id, "finish first");

        Assert.True(await Queue.CompleteAsync(task, "w-cancel", [], 10, default));
        var canceled = await Tasks.CancelAsync(task.Id, user.Id, default);

        Assert.Equal("not_cancelable", canceled.Error?.Code);
        Assert.Equal(95, await Ledger.GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Cancel_racing_the_settlement_either_wins_or_answers_not_cancelable()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 1000);
        for (var round = 0; round < 30; round++)
        {
            var task = await ClaimOwnTaskAsync(user.Id, $"race {round}");
            var before = await Ledger.GetBalanceAsync(user.Id) + task.CreditsReserved;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var cancel = Task.Run(async () => { await gate.Task; return await Tasks.CancelAsync(task.Id, user.Id, default); });
            var complete = Task.Run(async () => { await gate.Task; return await Queue.CompleteAsync(task, "w-cancel", [], 10, default); });
            gate.SetResult();
            var (canceled, completed) = (await cancel, await complete);

            var settled = await factory.Services.LoadTaskAsync(task.Id);
            if (canceled.Succeeded)
            {
                Assert.False(completed);
                Assert.Equal(GenerationTaskStatus.Canceled, settled.Status);
                Assert.Equal(before, await Ledger.GetBalanceAsync(user.Id));
            }
            else
            {
                Assert.Equal("not_cancelable", canceled.Error!.Code);
                Assert.Equal(GenerationTaskStatus.Succeeded, settled.Status);
                Assert.Equal(before - task.CreditsReserved, await Ledger.GetBalanceAsync(user.Id));
            }
        }
    }

    [Fact]
    public async Task Transient_failure_after_an_accepted_cancel_is_not_retried()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var task = await ClaimOwnTaskAsync(user.Id, "flaky then canceled");

        Assert.True((await Tasks.CancelAsync(task.Id, user.Id, default)).Succeeded);
        await Queue.FailAsync(task, "w-cancel", "provider_timeout", "slow", transient: true, maxAttempts: 3, TimeSpan.Zero, default);

        Assert.Equal(GenerationTaskStatus.Canceled, (await factory.Services.LoadTaskAsync(task.Id)).Status);
        Assert.Equal(100, await Ledger.GetBalanceAsync(user.Id));
    }

    private async Task<GenerationTask> ClaimOwnTaskAsync(Guid userId, string prompt)
    {
        await factory.Services.HoldQueuedTasksAsync();
        var id = await factory.Services.SubmitTestTaskAsync(userId, prompt);
        var claimed = await Queue.ClaimAsync("w-cancel", TimeSpan.FromMinutes(1), default);
        Assert.Equal(id, claimed?.Id);
        return claimed!;
    }

    internal static Task<HttpResponseMessage> SubmitAsync(HttpClient client, string key, string prompt, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tasks")
        {
            Content = JsonContent.Create(new { model = BananaLabFactory.TestModel, prompt }),
        };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request, cancellationToken);
    }

    /// <summary>Retries as a client would while the first request is still being processed (409 in progress).</summary>
    internal static async Task<HttpResponseMessage> SubmitUntilSettledAsync(HttpClient client, string key, string prompt)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await SubmitAsync(client, key, prompt, default);
            if (response.StatusCode != HttpStatusCode.Conflict || attempt == 200) return response;
            await Task.Delay(10);
        }
    }

    private async Task<int> CountTasksAsync(Guid userId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.CountAsync(t => t.UserId == userId);
    }
}
