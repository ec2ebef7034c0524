using System.Collections.Concurrent;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Tasks;
using BananaLab.Web.Hubs;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

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
    public async Task Subscriber_receives_progress_with_previews_and_completion_of_its_task()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "pushed [slow:100][steps:4]" });
        await using var hub = Connect(key);
        var events = new ConcurrentQueue<(string Name, TaskHubEvent Event)>();
        var completed = new TaskCompletionSource();
        hub.On<TaskHubEvent>("progress", e => events.Enqueue(("progress", e)));
        hub.On<TaskHubEvent>("completed", e => { events.Enqueue(("completed", e)); completed.TrySetResult(); });
        await hub.StartAsync();

        var state = await hub.InvokeAsync<TaskResponse>("Subscribe", created.Id);
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
