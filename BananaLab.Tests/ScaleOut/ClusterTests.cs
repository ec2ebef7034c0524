using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Storage;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Hubs;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace BananaLab.Tests.ScaleOut;

/// <summary>
/// A real cluster of separate OS processes on one PostgreSQL database and one Redis: two web hosts
/// with their workers switched off and two worker processes, sharing one image directory. Tasks are
/// submitted through both web hosts, one worker is SIGKILLed mid-run, and nothing may be lost, charged
/// twice or refunded twice; a client of web host A follows a task handed out by web host B live.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output)
{
    private const int TaskCount = 200;

    [Fact]
    public async Task Two_web_hosts_and_two_workers_run_200_tasks_through_a_worker_kill_and_settle_every_credit_once()
    {
        var postgres = await PostgresServer.Shared;
        var redis = await RedisServer.Shared;
        using var data = new TempDirectory();
        var shared = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = data.Path,
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:BananaLab"] = await postgres.CreateDatabaseAsync(),
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Cluster:RedisPrefix"] = "cluster-" + Guid.NewGuid().ToString("N")[..8],
        };
        string[] Args(params string[] more) => [.. shared.Select(s => $"{s.Key}={s.Value}"), .. more];
        var (portA, portB, metricsPort) = (LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free());
        var processes = new List<Process>();
        try
        {
            // All four processes start at the same instant on the empty database: one migrates and creates the
            // key ring's key, the others wait for it (see ConcurrentStartTests for the race this used to lose).
            processes.Add(ChildProcesses.Start(output, "web-a", ["web", data.Path, portA.ToString(), .. Args("Cluster:NodeName=web-a", "Worker:Enabled=false")]));
            processes.Add(ChildProcesses.Start(output, "web-b", ["web", data.Path, portB.ToString(), .. Args("Cluster:NodeName=web-b", "Worker:Enabled=false")]));
            var workerSettings = new[] { "Worker:Concurrency=2", "Worker:LeaseSeconds=2", "Worker:HeartbeatMs=200", "Worker:RecoveryIntervalSeconds=1", "Worker:PollIntervalMs=2000" };
            var victim = ChildProcesses.Start(output, "worker-1", ["worker", data.Path, .. Args(["Cluster:NodeName=worker-1", "Worker:Name=worker-1", .. workerSettings])]);
            processes.Add(victim);
            processes.Add(ChildProcesses.Start(output, "worker-2", ["worker", data.Path,
                .. Args(["Cluster:NodeName=worker-2", "Worker:Name=worker-2", $"Worker:MetricsPort={metricsPort}", .. workerSettings])]));
            await ChildProcesses.WaitReadyAsync(portA);
            await ChildProcesses.WaitReadyAsync(portB);
            // The first pages arrive on both nodes at once, as they do behind a load balancer: both need a signing key now.
            using (var first = new HttpClient())
                await Task.WhenAll(Enumerable.Range(0, 8).Select(i => first.GetAsync($"http://127.0.0.1:{(i % 2 == 0 ? portA : portB)}/account/login")));

            using var core = ChildProcesses.CoreServices(shared);
            var imageStore = core.Services.GetRequiredService<ImageStore>();
            var users = new List<(Guid Id, string Key)>();
            for (var i = 0; i < 4; i++)
            {
                var user = await core.Services.GetRequiredService<UserService>()
                    .CreateAsync($"cluster{i}@example.test", "Cluster test", UserRole.User, initialCredits: 10_000);
                users.Add((user.Id, (await core.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "cluster")).Secret));
            }
            HttpClient Client(int port, string key)
            {
                var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                return client;
            }

            // One key ring: a sign-in, an antiforgery token and a signed image link made on either node work on the other.
            var member = await core.Services.GetRequiredService<UserService>()
                .CreateAsync("member@example.test", "Member", UserRole.User, "member password", initialCredits: 100);
            var memberKey = (await core.Services.GetRequiredService<ApiKeyService>().CreateAsync(member.Id, "links")).Secret;
            await CrossNodeTrust.AssertAsync(portA, portB, member.Email, "member password", memberKey, output);
            await CrossNodeTrust.AssertAsync(portB, portA, member.Email, "member password", memberKey, output);
            // Both nodes use the one key the first of them created. (ASP.NET Core re-reads the ring for an unknown key only
            // in the first two minutes after start, so a second key would split the cluster from then on.)
            await using (var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
                Assert.Equal(1, await db.DataProtectionKeys.CountAsync());

            // A client connected to web host A follows a task that web host B hands out to a worker.
            var (followerId, followerKey) = users[0];
            await using var hub = new HubConnectionBuilder()
                .WithUrl($"http://127.0.0.1:{portA}{TasksHub.Path}", o => o.AccessTokenProvider = () => Task.FromResult<string?>(followerKey))
                .Build();
            var events = new ConcurrentQueue<(string Name, TaskHubEvent Event)>();
            foreach (var name in new[] { "progress", "completed", "failed", "canceled" })
                hub.On<TaskHubEvent>(name, e => events.Enqueue((name, e)));
            await hub.StartAsync();
            using var viaB = Client(portB, followerKey);
            var followed = await viaB.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "followed across nodes [slow:150][steps:12]", count = 1 });
            await hub.InvokeAsync<object>("Subscribe", followed.Id);

            // 200 tasks through both web hosts, 8 at a time: most take ~0.3 s, some fail for good, some fail once and retry.
            var clients = users.SelectMany(u => new[] { Client(portA, u.Key), Client(portB, u.Key) }).ToArray();
            var ids = new ConcurrentBag<Guid> { followed.Id };
            await Parallel.ForAsync(0, TaskCount - 1, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var prompt = (i % 13) switch
                {
                    5 => "cluster [fail]",
                    9 => "cluster [flaky:1][slow:40][steps:5]",
                    _ => "cluster [slow:60][steps:5]",
                };
                var created = await clients[i % clients.Length].SubmitAsync(new { model = BananaLabFactory.TestModel, prompt, count = 1 + i % 2 });
                ids.Add(created.Id);
            });

            // SIGKILL worker 1 while it runs tasks and plenty are still queued.
            await ChildProcesses.WaitUntilAsync(async () =>
            {
                await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
                return await db.Tasks.CountAsync(t => t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "worker-1") >= 10
                    // One of them must be able to succeed elsewhere: a "[fail]" task fails on the survivor too.
                    && await db.Tasks.CountAsync(t => t.Status == GenerationTaskStatus.Running && t.WorkerName == "worker-1" && !t.Prompt.Contains("[fail]")) > 0;
            }, TimeSpan.FromSeconds(90));
            victim.Kill();
            await victim.WaitForExitAsync();
            Guid[] orphaned;
            await using (var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
                orphaned = await db.Tasks.Where(t => t.Status == GenerationTaskStatus.Running && t.WorkerName == "worker-1").Select(t => t.Id).ToArrayAsync();
            var queuedAtKill = await ChildProcesses.CountAsync(core, GenerationTaskStatus.Queued);
            output.WriteLine($"killed worker-1 holding {orphaned.Length} running tasks, {queuedAtKill} queued");
            Assert.True(queuedAtKill > 0, "the cluster finished everything before the kill");

            await ChildProcesses.WaitUntilAsync(async () =>
                await ChildProcesses.CountAsync(core, GenerationTaskStatus.Queued) + await ChildProcesses.CountAsync(core, GenerationTaskStatus.Running) == 0,
                TimeSpan.FromSeconds(180));

            Assert.Equal(TaskCount, ids.Count);
            await ChildProcesses.AssertSettledExactlyOnceAsync(core, ids.ToArray(), users.Select(u => u.Id));
            await using (var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync())
            {
                var tasks = await db.Tasks.AsNoTracking().Include(t => t.Images).ToListAsync();
                // The killed worker's tasks were taken over by the survivor once their leases ran out.
                Assert.All(tasks.Where(t => orphaned.Contains(t.Id) && t.Status == GenerationTaskStatus.Succeeded),
                    t => Assert.Equal("worker-2", t.WorkerName));
                Assert.Contains(tasks, t => orphaned.Contains(t.Id) && t.Status == GenerationTaskStatus.Succeeded);
                // Every run is on record: the killed worker's ended when its lease ran out, the survivor's later one succeeded.
                var runs = await db.TaskAttempts.AsNoTracking().Where(a => orphaned.Contains(a.TaskId)).OrderBy(a => a.Id).ToListAsync();
                foreach (var task in tasks.Where(t => orphaned.Contains(t.Id) && t.Status == GenerationTaskStatus.Succeeded))
                {
                    var mine = runs.Where(r => r.TaskId == task.Id).ToList();
                    Assert.Equal(("worker-1", TaskAttemptOutcome.LeaseExpired), (mine[0].WorkerName, mine[0].Outcome!.Value));
                    Assert.Equal(("worker-2", TaskAttemptOutcome.Succeeded), (mine[^1].WorkerName, mine[^1].Outcome!.Value));
                    // A claim reads its clock just before its statement, which may wait for the requeue's commit: the
                    // next run's recorded start can precede the recorded end of the run before it by that moment.
                    Assert.True(mine[^1].StartedAt > mine[0].EndedAt!.Value.AddSeconds(-1), $"{mine[^1].StartedAt:O} vs {mine[0].EndedAt:O}");
                }
                Assert.DoesNotContain(await db.TaskAttempts.AsNoTracking().ToListAsync(), r => r.EndedAt is null);
                // Both workers did real work, and every image a worker wrote is in the shared directory.
                Assert.Contains(tasks, t => t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "worker-1");
                Assert.Contains(tasks, t => t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "worker-2");
                foreach (var task in tasks.Where(t => t.Status == GenerationTaskStatus.Succeeded))
                {
                    Assert.Equal(task.ImageCount, task.Images.Count);
                    Assert.All(task.Images, image => Assert.True(File.Exists(imageStore.FullPath(image.FilePath)), image.FilePath));
                }
                // Plain tasks all succeed, even those the kill interrupted; "[fail]" ones all fail and are refunded.
                // ("[flaky:1]" ones may run out of attempts when the kill cost them one, so either is right for them.)
                Assert.All(tasks.Where(t => t.Prompt.Contains("[slow:60]")), t => Assert.Equal(GenerationTaskStatus.Succeeded, t.Status));
                Assert.All(tasks.Where(t => t.Prompt.Contains("[fail]")), t => Assert.Equal(GenerationTaskStatus.Failed, t.Status));
            }

            // Worker 2's own metrics endpoint counts exactly the tasks the database says it completed.
            using (var scraper = new HttpClient())
            {
                var metrics = await scraper.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                await using var db = await core.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
                var completed = await db.Tasks.CountAsync(t => t.Status == GenerationTaskStatus.Succeeded && t.WorkerName == "worker-2");
                Assert.Contains($"bananalab_worker_tasks_finished_total{{model=\"{BananaLabFactory.TestModel}\",worker=\"worker-2\",outcome=\"succeeded\",node=\"worker-2\"}} {completed}", metrics);
                Assert.Contains($"bananalab_generation_seconds_count{{model=\"{BananaLabFactory.TestModel}\",worker=\"worker-2\",node=\"worker-2\"}} {completed}", metrics);
            }

            // Beside its metrics, the worker answers Kubernetes-style probes with its database and Redis checks, on loopback only.
            using (var prober = new HttpClient())
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, (await prober.GetAsync($"http://127.0.0.1:{metricsPort}/livez")).StatusCode);
                var ready = await (await prober.GetAsync($"http://127.0.0.1:{metricsPort}/readyz")).ReadJsonAsync();
                Assert.Equal("Healthy", ready.GetProperty("status").GetString());
                Assert.Equal(["database", "redis", "startup"], ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
                Assert.Equal(["127.0.0.1"], ListeningSockets.AddressesOf(metricsPort));
            }

            // The follower on A saw its task's steps as the worker ran them, then the result, each once.
            var received = events.Where(e => e.Event.TaskId == followed.Id).ToList();
            output.WriteLine("follower saw: " + string.Join(" ", received.Select(e => $"{e.Name}:{e.Event.Step}")));
            var steps = received.Where(e => e.Name == "progress" && e.Event is { Phase: "denoising", Step: > 0 }).Select(e => e.Event.Step).ToList();
            Assert.True(steps.Count >= 6, $"only {steps.Count} progress events reached web host A");
            Assert.Equal(steps.Distinct().Order(), steps);
            Assert.NotNull(received.First(e => e.Name == "progress" && e.Event.Step > 0).Event.PreviewPngBase64);
            Assert.Equal("completed", Assert.Single(received, e => e.Name is "completed" or "failed" or "canceled").Name);
            foreach (var client in clients) client.Dispose();
        }
        finally
        {
            foreach (var process in processes) ChildProcesses.KillQuietly(process);
        }
    }
}

/// <summary>The addresses a local TCP port listens on, read from the kernel's tables (no traffic is sent).</summary>
internal static class ListeningSockets
{
    public static string[] AddressesOf(int port) =>
    [
        .. Read("/proc/net/tcp", port, hex => new System.Net.IPAddress(Convert.FromHexString(hex).Reverse().ToArray())),
        .. Read("/proc/net/tcp6", port, hex => new System.Net.IPAddress(Enumerable.Range(0, 4)
            .SelectMany(word => Convert.FromHexString(hex.Substring(word * 8, 8)).Reverse()).ToArray())),
    ];

    private static IEnumerable<string> Read(string table, int port, Func<string, System.Net.IPAddress> parse) =>
        !File.Exists(table) ? [] : File.ReadLines(table).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == "0A" && Convert.ToInt32(fields[1].Split(':')[1], 16) == port) // 0A: LISTEN
            .Select(fields => parse(fields[1].Split(':')[0]).ToString());
}

/// <summary>What one node signs, another accepts: they share one data-protection key ring.</summary>
internal static class CrossNodeTrust
{
    /// <summary>
    /// Signs in with the form served by <paramref name="from"/> but posted to <paramref name="to"/> (antiforgery),
    /// opens a signed-in page on <paramref name="from"/> with the cookie <paramref name="to"/> set, and fetches on
    /// <paramref name="to"/> an OpenAI-dialect <c>url</c> image link made on <paramref name="from"/>.
    /// </summary>
    public static async Task AssertAsync(int from, int to, string email, string password, string apiKey, ITestOutputHelper output)
    {
        using var fromNode = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{from}") };
        using var toNode = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{to}") };

        var form = await fromNode.GetAsync("/account/login");
        var token = Studio.AccountTests.FormToken(await form.Content.ReadAsStringAsync());
        using var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login", ["__RequestVerificationToken"] = token, ["Form.Email"] = email, ["Form.Password"] = password,
            }),
        };
        post.Headers.Add("Cookie", Cookies(form));
        var signedIn = await toNode.SendAsync(post);
        Assert.True(signedIn.StatusCode == System.Net.HttpStatusCode.Redirect && new Uri(toNode.BaseAddress!, signedIn.Headers.Location!).AbsolutePath == "/",
            $"the sign-in form from :{from} posted to :{to} answered {(int)signedIn.StatusCode} {signedIn.Headers.Location}");

        using var page = new HttpRequestMessage(HttpMethod.Get, "/credits");
        page.Headers.Add("Cookie", Cookies(signedIn));
        var credits = await fromNode.SendAsync(page);
        Assert.True(credits.StatusCode == System.Net.HttpStatusCode.OK,
            $"the sign-in cookie of :{to} on :{from}/credits answered {(int)credits.StatusCode} {credits.Headers.Location}");

        using var generate = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations")
        {
            Content = JsonContent.Create(new { model = BananaLabFactory.TestModel, prompt = "a link for every node", n = 1, size = "1024x1024", response_format = "url" }),
        };
        generate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var reply = await (await fromNode.SendAsync(generate)).ReadJsonAsync();
        var link = new Uri(reply.GetProperty("data")[0].GetProperty("url").GetString()!);
        Assert.Equal(from, link.Port);
        var image = await toNode.GetAsync(link.PathAndQuery);
        Assert.True(image.StatusCode == System.Net.HttpStatusCode.OK, $"a link made on :{from} answered {(int)image.StatusCode} on :{to}");
        output.WriteLine($"made on :{from}, accepted on :{to}: antiforgery token, sign-in cookie, signed image link");
    }

    private static string Cookies(HttpResponseMessage response) => string.Join("; ",
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Select(v => v.Split(';')[0]) : []);
}

/// <summary>The cluster runs alone: five processes on two cores would starve the other tests' timeouts, and theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "Cluster";
}
