using System.Collections.Concurrent;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Hubs;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Hubs;

public sealed class TasksHubTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private HubConnection Connect(string apiKey) => new HubConnectionBuilder()
        .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/tasks"), options =>
        {
            options.Transports = HttpTransportType.LongPolling;
            options.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
            options.AccessTokenProvider = () => Task.FromResult<string?>(apiKey);
        })
        .Build();

    [Fact]
    public async Task A_connection_opened_with_a_key_is_closed_when_the_key_is_revoked()
    {
        var (user, key) = await factory.CreateUserAsync();
        await using var hub = Connect(key);
        var closed = new TaskCompletionSource();
        hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        await hub.StartAsync();
        var keys = factory.Services.GetRequiredService<Core.Users.ApiKeyService>();

        await keys.RevokeAsync(user.Id, (await keys.AuthenticateAsync(key))!.Key.Id);

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HubConnectionState.Disconnected, hub.State);
    }

    [Fact]
    public async Task A_connection_of_an_account_is_closed_when_the_account_is_disabled()
    {
        var (user, key) = await factory.CreateUserAsync();
        await using var hub = Connect(key);
        var closed = new TaskCompletionSource();
        hub.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        await hub.StartAsync();

        await factory.Services.GetRequiredService<Core.Users.UserService>().SetDisabledAsync(Guid.NewGuid(), user.Id, disabled: true);

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Subscriber_receives_progress_with_previews_and_completion_of_its_task()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        // The gate holds the run until the subscription is in place, however slow the machine.
        var gate = Guid.NewGuid().ToString("N");
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = $"pushed [slow:100][steps:4][gate:{gate}]" });
        await using var hub = Connect(key);
        var events = new ConcurrentQueue<(string Name, TaskHubEvent Event)>();
        var completed = new TaskCompletionSource();
        hub.On<TaskHubEvent>("progress", e => events.Enqueue(("progress", e)));
        hub.On<TaskHubEvent>("completed", e => { events.Enqueue(("completed", e)); completed.TrySetResult(); });
        await hub.StartAsync();

        var state = await hub.InvokeAsync<TaskResponse>("Subscribe", created.Id);
        ScriptedGenerator.OpenGate(gate);
        await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(created.Id, state.Id);
        var progress = events.Where(e => e.Name == "progress" && e.Event.Step > 0).Select(e => e.Event).ToList();
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal(created.Id, p.TaskId));
        Assert.Contains(progress, p => p.PreviewPngBase64 is not null);
        Assert.Equal(100, events.Last().Event.Progress);
        Assert.Equal("succeeded", events.Last().Event.Status);
    }

    [Fact]
    public async Task Every_phase_reaches_the_hub_in_order_and_100_percent_only_with_success()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        // The one worker slot is held by a gated run, so the observed task stays queued until the gate opens.
        var gate = Guid.NewGuid().ToString("N");
        var blocker = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = $"blocker [gate:{gate}]" });
        await WaitUntilRunningAsync(client, blocker.Id);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "phases [steps:3]" });
        await using var hub = Connect(key);
        var events = new ConcurrentQueue<(string Name, TaskHubEvent Event)>();
        var completed = new TaskCompletionSource();
        foreach (var name in new[] { "queued", "progress", "failed", "canceled" })
            hub.On<TaskHubEvent>(name, e => events.Enqueue((name, e)));
        hub.On<TaskHubEvent>("completed", e => { events.Enqueue(("completed", e)); completed.TrySetResult(); });
        await hub.StartAsync();

        var state = await hub.InvokeAsync<TaskResponse>("Subscribe", created.Id);
        ScriptedGenerator.OpenGate(gate);
        await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(("queued", "queued"), (state.Status, state.Phase));
        var pushed = events.Select(e => e.Event).ToList();
        var phases = new List<string> { state.Phase };
        foreach (var phase in pushed.Select(e => e.Phase)) if (phases[^1] != phase) phases.Add(phase);
        Assert.Equal(["queued", "denoising", "upscaling", "encoding", "done"], phases);
        Assert.Contains(pushed, e => e is { Phase: "denoising", Step: 3, TotalSteps: 3 });
        Assert.Equal(pushed.Select(e => e.Progress).Order(), pushed.Select(e => e.Progress));
        Assert.All(pushed.SkipLast(1), e => Assert.InRange(e.Progress, 0, 99));
        Assert.Equal(("completed", "succeeded", 100), (events.Last().Name, pushed[^1].Status, pushed[^1].Progress));
        Assert.Null(pushed[^1].EtaSeconds);
    }

    private static async Task WaitUntilRunningAsync(HttpClient client, Guid id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await client.GetTaskAsync(id)).Status != "running") await Task.Delay(20, timeout.Token);
    }

    [Fact]
    public async Task Failures_are_pushed_as_failed_events()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "late failure [slow:500][steps:4][fail]" });
        await using var hub = Connect(key);
        var failed = new TaskCompletionSource<TaskHubEvent>();
        hub.On<TaskHubEvent>("failed", e => failed.TrySetResult(e));
        await hub.StartAsync();
        await hub.InvokeAsync<TaskResponse>("Subscribe", created.Id);

        var failure = await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("generation_failed", failure.ErrorCode);
    }

    [Fact]
    public async Task Subscribing_to_someone_elses_task_is_refused()
    {
        var (_, ownerKey) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        var created = await factory.CreateClient(ownerKey).SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "private" });
        await using var hub = Connect(otherKey);
        await hub.StartAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<TaskResponse>("Subscribe", created.Id));
        Assert.Contains("no such task", error.Message);
    }

    [Fact]
    public async Task Connecting_without_a_valid_key_fails()
    {
        await using var hub = Connect("bl_wrong_key_000000000000000");
        await Assert.ThrowsAnyAsync<Exception>(() => hub.StartAsync());
    }
}
