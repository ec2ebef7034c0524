using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using OpenAI;
using OpenAI.Images;

namespace BananaLab.Tests.Api;

/// <summary>
/// Synchronous calls (submit and wait) that end before the result: the answer asks clients not to retry, and a retry
/// of the identical call attaches to the first task instead of charging a second one, in every dialect.
/// </summary>
public sealed class SynchronousRetryTests(SynchronousRetryTests.ShortWaitFactory factory) : IClassFixture<SynchronousRetryTests.ShortWaitFactory>
{
    public sealed class ShortWaitFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Api:SyncWaitSeconds"] = "1", ["Api:BananaStartWaitSeconds"] = "1", ["Worker:Concurrency"] = "8",
        };
    }

    [Fact]
    public async Task OpenAI_still_generating_says_do_not_retry_and_a_marked_retry_attaches_to_the_first_task()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var gate = Gate();
        var body = new { model = BananaLabFactory.TestModel, prompt = $"[gate:{gate}] a slow lighthouse" };

        var first = await client.PostAsJsonAsync("/v1/images/generations", body);
        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.Equal("false", first.Headers.GetValues("x-should-retry").Single());

        var retry = new HttpRequestMessage(HttpMethod.Post, "/v1/images/generations") { Content = JsonContent.Create(body) };
        retry.Headers.Add("X-Stainless-Retry-Count", "1");
        ScriptedGenerator.OpenGate(gate);
        var second = await client.SendAsync(retry);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, await CountTasksAsync(user.Id));
        Assert.Equal(95, await CreditsAsync(user.Id));
    }

    [Fact]
    public async Task Official_OpenAI_dotnet_SDK_retrying_a_504_on_its_own_charges_one_task()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        var requests = 0;
        var gate = Gate();
        // The task finishes only once the SDK has retried: the first call's wait always ends in a 504.
        using var http = new HttpClient(new CountingHandler(factory.Server.CreateHandler(), () =>
        {
            if (Interlocked.Increment(ref requests) == 2) ScriptedGenerator.OpenGate(gate);
        }))
        {
            BaseAddress = factory.Server.BaseAddress,
        };
        var images = new ImageClient(BananaLabFactory.TestModel, new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(factory.Server.BaseAddress, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 3),
        });

        var generated = await images.GenerateImageAsync($"[gate:{gate}] a patient owl");

        Assert.NotNull(generated.Value.ImageUri);
        Assert.True(requests > 1, "the SDK was expected to retry the 504 (it does not read x-should-retry)");
        Assert.Equal(1, await CountTasksAsync(user.Id));
        Assert.Equal(95, await CreditsAsync(user.Id));
    }

    [Fact]
    public async Task The_same_request_again_after_its_result_was_delivered_is_a_new_task()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var body = new { model = BananaLabFactory.TestModel, prompt = "two owls on purpose" };

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/images/generations", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/images/generations", body)).StatusCode);

        Assert.Equal(2, await CountTasksAsync(user.Id));
    }

    [Fact]
    public async Task A_client_that_dropped_its_call_and_retries_after_the_task_finished_gets_those_images_and_pays_once()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var gate = Gate();
        var body = new { model = BananaLabFactory.TestModel, prompt = $"[gate:{gate}] a dropped heron" };

        // The client gives up long before the server's 1 s wait ends, so nobody receives the images...
        using (var drop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PostAsJsonAsync("/v1/images/generations", body, drop.Token));
        ScriptedGenerator.OpenGate(gate);
        await WaitUntilSucceededAsync(user.Id);

        // ...and its retry, unmarked (as the .NET SDK sends it) and well within that wait, gets them instead of a new charge.
        var retry = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(1, await CountTasksAsync(user.Id));
        Assert.Equal(95, await CreditsAsync(user.Id));
    }

    [Fact]
    public async Task BentoML_generate_retry_while_still_generating_attaches_and_says_do_not_retry()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var gate = Gate();
        var body = new { prompt = $"[gate:{gate}] a slow bento" };

        var first = await client.PostAsJsonAsync("/generate", body);
        var second = await client.PostAsJsonAsync("/generate", body);
        ScriptedGenerator.OpenGate(gate);

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.StatusCode);
        Assert.Equal("false", first.Headers.GetValues("x-should-retry").Single());
        Assert.Equal(HttpStatusCode.GatewayTimeout, second.StatusCode);
        Assert.Equal(1, await CountTasksAsync(user.Id));
    }

    [Fact]
    public async Task Banana_start_retry_while_still_generating_attaches_to_the_same_call()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient();
        var gate = Gate();
        var body = new { apiKey = key, modelKey = BananaLabFactory.TestModel, modelInputs = new { prompt = $"[gate:{gate}] a slow banana" } };

        var first = await client.PostAsJsonAsync("/start/v4", body);
        var second = await client.PostAsJsonAsync("/start/v4", body);
        ScriptedGenerator.OpenGate(gate);

        Assert.Equal("false", first.Headers.GetValues("x-should-retry").Single());
        Assert.Equal((await first.ReadJsonAsync()).GetProperty("callID").GetString(), (await second.ReadJsonAsync()).GetProperty("callID").GetString());
        Assert.Equal(1, await CountTasksAsync(user.Id));
    }

    [Fact]
    public async Task Session_wait_for_result_retry_while_still_generating_attaches_to_the_same_job()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient();
        var login = new HttpRequestMessage(HttpMethod.Post, "/login") { Content = JsonContent.Create(new { endpoint_name = BananaLabFactory.TestModel }) };
        login.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var session = (await (await client.SendAsync(login)).ReadJsonAsync()).GetProperty("client_session_auth_key").GetString();
        var gate = Gate();
        var body = new { client_session_auth_key = session, prompt = $"[gate:{gate}] a slow session", wait_for_result = true };

        var first = await client.PostAsJsonAsync("/endpoint", body);
        var second = await client.PostAsJsonAsync("/endpoint", body);
        ScriptedGenerator.OpenGate(gate);

        Assert.Equal("false", first.Headers.GetValues("x-should-retry").Single());
        Assert.Equal((await first.ReadJsonAsync()).GetProperty("job_id").GetString(), (await second.ReadJsonAsync()).GetProperty("job_id").GetString());
        Assert.Equal(1, await CountTasksAsync(user.Id));
    }

    [Fact]
    public async Task FastDeploy_sync_retry_while_still_generating_attaches_to_the_same_batch()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var gate = Gate();
        var body = new { data = new[] { $"[gate:{gate}] slow one", $"[gate:{gate}] slow two" } };

        var first = await client.PostAsJsonAsync("/sync", body);
        var second = await client.PostAsJsonAsync("/sync", body);
        ScriptedGenerator.OpenGate(gate);

        Assert.Equal("false", first.Headers.GetValues("x-should-retry").Single());
        Assert.Equal(2, await CountTasksAsync(user.Id));
        Assert.Equal(90, await CreditsAsync(user.Id));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    private static string Gate() => "sync" + Guid.NewGuid().ToString("N")[..12];

    private async Task<int> CountTasksAsync(Guid userId)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return await db.Tasks.CountAsync(t => t.UserId == userId);
    }

    private async Task WaitUntilSucceededAsync(Guid userId)
    {
        var dbFactory = factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>();
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(20))
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            if (await db.Tasks.AnyAsync(t => t.UserId == userId && t.Status == GenerationTaskStatus.Succeeded)) return;
        }
        Assert.Fail("The task did not succeed within 15 s.");
    }

    private Task<int> CreditsAsync(Guid userId) =>
        factory.Services.GetRequiredService<Core.Credits.CreditLedger>().GetBalanceAsync(userId);

    private sealed class CountingHandler(HttpMessageHandler inner, Action onSend) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            onSend();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
