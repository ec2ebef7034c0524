using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Catalog;
using BananaLab.Core.Cluster;
using BananaLab.Core.Generation;
using BananaLab.Core.Tasks;
using BananaLab.Core.Workers;
using BananaLab.Tests.Infrastructure;
using BananaLab.Worker.Queue;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace BananaLab.Tests.Workers;

/// <summary>
/// Per-model concurrency and the circuit breaker (<see cref="ModelCircuits"/>): a remote model runs its provider's 8 tasks at
/// once beside the one slot of the local models; provider failures in a row pause a model and a success after the pause
/// resumes it; a refusal of our credentials switches the model off (refused at submission, named on /readyz) until an
/// admin's retry.
/// </summary>
public sealed class ProviderCircuitTests(ProviderCircuitTests.Factory factory) : IClassFixture<ProviderCircuitTests.Factory>
{
    public sealed class Factory : BananaLabFactory
    {
        public const string Remote = "flaky-remote";
        public const string Locked = "locked-remote";

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Worker:Concurrency"] = "1",
            ["Worker:MaxAttempts"] = "1",
            ["Worker:CircuitFailures"] = "3",
            ["Worker:CircuitOpenSeconds"] = "2",
            [$"Models:{Remote}:DisplayName"] = "Flaky remote",
            [$"Models:{Remote}:Provider"] = CountingRemoteGenerator.Name,
            [$"Models:{Remote}:Tiers:1K"] = "2",
            [$"Models:{Locked}:DisplayName"] = "Remote with a wrong key",
            [$"Models:{Locked}:Provider"] = CountingRemoteGenerator.Name,
            [$"Models:{Locked}:Tiers:1K"] = "2",
        };

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddImageGenerator<CountingRemoteGenerator>());
        }
    }

    [Fact]
    public async Task A_remote_model_runs_eight_tasks_at_once_beside_the_single_local_slot()
    {
        var (user, _) = await factory.CreateUserAsync(credits: 100);
        var gate = Guid.NewGuid().ToString("N");
        var remote = new List<Guid>();
        for (var i = 0; i < 9; i++) remote.Add(await SubmitAsync(user.Id, Factory.Remote, $"[gate:{gate}] remote {i}"));
        var local = await SubmitAsync(user.Id, BananaLabFactory.TestModel, $"[gate:{gate}] local");
        var generator = Get<CountingRemoteGenerator>();

        await Eventually(() => generator.Running(gate) == 8 && IsRunning(local), "8 remote tasks and the local one running");
        await Task.Delay(300);
        Assert.Equal(8, generator.Running(gate)); // the ninth waits for a slot of its own pool
        Assert.Equal(8, generator.MostAtOnce(gate));

        ScriptedGenerator.OpenGate(gate);
        CountingRemoteGenerator.OpenGate(gate);
        foreach (var id in remote.Append(local)) Assert.Equal(GenerationTaskStatus.Succeeded, (await WaitAsync(id)).Status);
        return;

        bool IsRunning(Guid id) => Get<TaskService>().GetAsync(id, null, default).GetAwaiter().GetResult()!.Status == GenerationTaskStatus.Running;
    }

    [Fact]
    public async Task Provider_failures_in_a_row_pause_the_model_and_a_success_after_the_pause_closes_it()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        for (var i = 0; i < 3; i++)
        {
            var failed = await WaitAsync(await SubmitAsync(user.Id, Factory.Remote, $"[provider-error] {i}"));
            Assert.Equal(GenerationErrors.ProviderError, failed.ErrorCode);
        }
        var health = Get<ModelCircuits>().Current().Single(h => h.ModelId == Factory.Remote);
        Assert.Equal(CircuitState.Open, health.Circuit);
        using var client = factory.CreateClient(key);
        var ready = await (await client.GetAsync("/readyz")).ReadJsonAsync();
        Assert.Contains($"{Factory.Remote}: circuit open until", ready.GetProperty("checks").GetProperty("providers").GetProperty("description").GetString());

        // Queued meanwhile, claimed only once the pause is over; its success closes the circuit.
        var waiting = await SubmitAsync(user.Id, Factory.Remote, "after the pause");
        await Task.Delay(500);
        Assert.Equal(GenerationTaskStatus.Queued, (await Get<TaskService>().GetAsync(waiting, null, default))!.Status);
        var done = await WaitAsync(waiting);
        Assert.Equal(GenerationTaskStatus.Succeeded, done.Status);
        Assert.True(done.StartedAt >= health.OpenUntil, $"started {done.StartedAt:O}, paused until {health.OpenUntil:O}");
        Assert.Equal(CircuitState.Closed, Get<ModelCircuits>().Current().Single(h => h.ModelId == Factory.Remote).Circuit);
    }

    [Fact]
    public async Task Refused_credentials_switch_the_model_off_until_an_admin_retries_it()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var refused = await WaitAsync(await SubmitAsync(user.Id, Factory.Locked, "[auth] first"));
        Assert.Equal(GenerationErrors.ProviderAuthFailed, refused.ErrorCode);
        Assert.Equal(100, await Get<Core.Credits.CreditLedger>().GetBalanceAsync(user.Id));

        var submitted = await client.PostAsJsonAsync("/api/v1/tasks", new { model = Factory.Locked, prompt = "while it is off" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, submitted.StatusCode);
        var problem = await submitted.ReadJsonAsync();
        Assert.Equal("model_unavailable", problem.GetProperty("code").GetString());
        Assert.Contains("switched off", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(CountingRemoteGenerator.SecretKey, problem.GetRawText());

        await Get<IClusterBroadcast>().PublishAsync(ModelCircuits.RetryTopic, Factory.Locked);
        var retried = await WaitAsync(await SubmitAsync(user.Id, Factory.Locked, "after the admin's retry"));
        Assert.Equal(GenerationTaskStatus.Succeeded, retried.Status);
    }

    private T Get<T>() where T : notnull => factory.Services.GetRequiredService<T>();

    private async Task<Guid> SubmitAsync(Guid userId, string model, string prompt)
    {
        var submitted = await Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = model, Prompt = prompt }, default);
        Assert.True(submitted.Succeeded, submitted.Error?.ToString());
        return submitted.Value!.Id;
    }

    private async Task<TaskSnapshot> WaitAsync(Guid taskId)
    {
        var view = await Get<TaskService>().WaitAsync(taskId, null, TimeSpan.FromSeconds(30), default);
        Assert.True(view!.Task.IsTerminal, $"task {taskId} is still {view.Task.Status}");
        return view.Task;
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(20))
            if (condition()) return;
        Assert.Fail($"Not reached within 20 s: {what}.");
    }
}

/// <summary>
/// A remote-like provider for <see cref="ProviderCircuitTests"/>: 8 tasks at once by default, "[gate:NAME]" waits for
/// <see cref="OpenGate"/> and counts the runs waiting, "[provider-error]" fails like a 5xx, "[auth]" like a 401.
/// </summary>
public sealed class CountingRemoteGenerator : IImageGenerator
{
    public const string Name = "counting-remote";
    /// <summary>What a real provider would hold as its key; no answer may show it.</summary>
    public const string SecretKey = "sk-test-never-shown";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();
    private readonly ConcurrentDictionary<string, int> _running = new();
    private readonly ConcurrentDictionary<string, int> _most = new();

    public string Provider => Name;

    public bool IsRemote => true;

    public int DefaultConcurrency => 8;

    public GenerationCapabilities CapabilitiesFor(ModelDefinition model) => new() { MaxBatch = 1 };

    public static void OpenGate(string name) => Gate(name).TrySetResult();

    public int Running(string gate) => _running.GetValueOrDefault(gate);

    public int MostAtOnce(string gate) => _most.GetValueOrDefault(gate);

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, IGenerationProgress progress, IGenerationOutput output,
        CancellationToken cancellationToken)
    {
        if (request.Prompt.Contains("[provider-error]"))
            throw new GenerationException(GenerationErrors.ProviderError, "The provider answered 500.", transient: true);
        if (request.Prompt.Contains("[auth]"))
            throw new GenerationException(GenerationErrors.ProviderAuthFailed, "The provider refused the model's API key (401).");
        if (System.Text.RegularExpressions.Regex.Match(request.Prompt, @"\[gate:(\w+)\]") is { Success: true } match)
        {
            var gate = match.Groups[1].Value;
            var now = _running.AddOrUpdate(gate, 1, (_, n) => n + 1);
            _most.AddOrUpdate(gate, now, (_, most) => Math.Max(most, now));
            try
            {
                await Gate(gate).Task.WaitAsync(cancellationToken);
            }
            finally
            {
                _running.AddOrUpdate(gate, 0, (_, n) => n - 1);
            }
        }
        return new GenerationResult([output.Finish(0, () => new ProducedImage.Encoded(RemoteLikeGenerator.Png), cancellationToken)]);
    }

    private static TaskCompletionSource Gate(string name) =>
        Gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
