using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using TaskPage = BananaLab.Web.Pages.History.TaskPage;
using BananaLab.Web.Pages.Studio;
using Bunit;
using Xunit.Abstractions;

namespace BananaLab.Tests.Studio;

/// <summary>
/// A live page that hears a task end shows the end, however API clients polling the same task at the same
/// moment have filled the node's caches: the task page and the studio's run, for tasks run by the real worker
/// while three clients poll the task through the API without pause.
/// </summary>
public sealed class LivePagesUnderPollingTests(BananaLabFactory app, ITestOutputHelper output)
    : LivePagesTestContext(app, output), IClassFixture<BananaLabFactory>
{
    [Fact]
    public Task Task_page_and_studio_run_show_the_end_of_every_task_while_the_api_polls_it() => RunRoundsAsync(rounds: 12);
}

/// <summary>
/// The same on two nodes: this web node runs on PostgreSQL and Redis with its worker off, and a worker
/// process of its own runs the tasks, so every event reaches the page through Redis.
/// </summary>
[Collection(ScaleOut.ClusterCollection.Name)]
public sealed class ClusterLivePagesUnderPollingTests(ClusterLivePagesUnderPollingTests.WebNode app, ITestOutputHelper output)
    : LivePagesTestContext(app, output), IClassFixture<ClusterLivePagesUnderPollingTests.WebNode>
{
    /// <summary>The web node, in this process; <see cref="Worker"/> starts the worker process beside it.</summary>
    public sealed class WebNode : PostgresFactory
    {
        private readonly string _prefix = "live-" + Guid.NewGuid().ToString("N")[..8];
        private readonly string _redis = RedisServer.Shared.GetAwaiter().GetResult().ConnectionString;

        protected override IDictionary<string, string?> MoreSettings => new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = _redis,
            ["Cluster:RedisPrefix"] = _prefix,
            ["Worker:Enabled"] = "false",
        };

        public System.Diagnostics.Process Worker(ITestOutputHelper output) => ChildProcesses.Start(output, "worker",
            ["worker", DataDirectory, "Database:Provider=Postgres", $"ConnectionStrings:BananaLab={ConnectionString}",
             $"ConnectionStrings:Redis={_redis}", $"Cluster:RedisPrefix={_prefix}", "Cluster:NodeName=worker", "Worker:Name=worker"]);
    }

    [Fact]
    public async Task Across_nodes_the_task_page_and_studio_run_show_the_end_of_every_task_while_the_api_polls_it()
    {
        var worker = ((WebNode)App).Worker(Output);
        try
        {
            await RunRoundsAsync(rounds: 12);
        }
        finally
        {
            ChildProcesses.KillQuietly(worker);
        }
    }
}

/// <summary>Renders the pages over the real host and runs the rounds both versions share.</summary>
public abstract class LivePagesTestContext(BananaLabFactory app, ITestOutputHelper output) : StudioTestContext(app)
{
    protected ITestOutputHelper Output { get; } = output;

    protected async Task RunRoundsAsync(int rounds)
    {
        var user = await SignInNewUserAsync(credits: 1000);
        var key = (await Get<ApiKeyService>().CreateAsync(user.Id, "poller")).Secret;
        await LivePages.RunRoundsAsync(this, Get<TaskService>(), Get<TaskNotifier>(), user.Id, () => App.CreateClient(key), rounds, Output);
    }

    private bool _providers;

    internal IRenderedComponent<TaskPage> RenderTaskPage(Guid id)
    {
        if (!_providers) RenderProviders();
        _providers = true;
        return Render<TaskPage>(p => p.Add(x => x.Id, id));
    }

    internal Task Dispatch(Func<Task> work) => Renderer.Dispatcher.InvokeAsync(work);
}

/// <summary>The rounds both the one-node and the cluster version of this test run.</summary>
internal static class LivePages
{
    public static async Task RunRoundsAsync(LivePagesTestContext context, TaskService tasks, TaskNotifier notifier, Guid userId,
        Func<HttpClient> pollerClient, int rounds, ITestOutputHelper output)
    {
        for (var round = 0; round < rounds; round++)
        {
            var submitted = await tasks.SubmitAsync(userId, new SubmitTaskRequest
            {
                ModelId = BananaLabFactory.TestModel, Prompt = $"round {round} [slow:{40 + round % 4 * 10}][steps:8]", Source = "studio",
            }, CancellationToken.None);
            Assert.True(submitted.Succeeded, submitted.Error?.ToString());
            var id = submitted.Value!.Id;

            var page = context.RenderTaskPage(id);
            TaskRun? run = null;
            await context.Dispatch(() => { run = new TaskRun(submitted.Value, userId, tasks, notifier, context.Dispatch); return Task.CompletedTask; });

            using var stop = new CancellationTokenSource();
            var polls = 0;
            var pollers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                using var client = pollerClient();
                while (!stop.IsCancellationRequested)
                {
                    var response = await client.GetAsync($"/api/v1/tasks/{id}");
                    Assert.True(response.IsSuccessStatusCode, $"poll answered {(int)response.StatusCode}");
                    Interlocked.Increment(ref polls);
                }
            })).ToList();

            var done = await tasks.WaitAsync(id, userId, TimeSpan.FromSeconds(30), CancellationToken.None);
            Assert.Equal(GenerationTaskStatus.Succeeded, done!.Task.Status);
            try
            {
                page.WaitForAssertion(() => Assert.Equal("Succeeded", TaskPageTests.Fields(page)["Status"]), TimeSpan.FromSeconds(5));
                await WaitUntilAsync(() => run!.Status == GenerationTaskStatus.Succeeded && run.Task.Images.Count == 1, TimeSpan.FromSeconds(5),
                    () => $"the studio run of round {round} still says {run!.Status} at {run.ProgressPercent} %");
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(pollers);
                run?.Dispose();
            }
            output.WriteLine($"round {round}: page and run show Succeeded; {polls} API polls during the run");
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(20);
        }
    }
}
