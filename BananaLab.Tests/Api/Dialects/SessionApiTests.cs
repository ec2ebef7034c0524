using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Api.Dialects;

public sealed class SessionApiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private async Task<(HttpClient Client, string SessionKey)> LoginAsync(bool keyInBody = false)
    {
        var (_, key) = await factory.CreateUserAsync();
        var client = factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = JsonContent.Create(keyInBody
                ? new { endpoint_name = BananaLabFactory.TestModel, version = "test 1.0", api_key = key }
                : (object)new { endpoint_name = BananaLabFactory.TestModel, version = "test 1.0" }),
        };
        if (!keyInBody) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var login = await (await client.SendAsync(request)).ReadJsonAsync();
        return (client, login.GetProperty("client_session_auth_key").GetString()!);
    }

    private async Task<(HttpClient Client, string SessionKey, Core.Users.User User, string ApiKey)> LoginWithNewUserAsync()
    {
        var (user, key) = await factory.CreateUserAsync();
        var client = factory.CreateClient();
        var login = await (await client.PostAsJsonAsync("/login", new { endpoint_name = BananaLabFactory.TestModel, api_key = key })).ReadJsonAsync();
        return (client, login.GetProperty("client_session_auth_key").GetString()!, user, key);
    }

    private static async Task<HttpStatusCode> SubmitAsync(HttpClient client, string session) =>
        (await client.PostAsJsonAsync("/endpoint", new { prompt = "cat", client_session_auth_key = session })).StatusCode;

    [Fact]
    public async Task A_session_key_stops_working_as_soon_as_its_API_key_is_revoked()
    {
        var (client, session, user, apiKey) = await LoginWithNewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await SubmitAsync(client, session));
        var keys = factory.Services.GetRequiredService<Core.Users.ApiKeyService>();
        var keyId = (await keys.AuthenticateAsync(apiKey))!.Key.Id;

        Assert.True(await keys.RevokeAsync(user.Id, keyId));

        Assert.Equal(HttpStatusCode.Unauthorized, await SubmitAsync(client, session));
        var progress = await client.PostAsJsonAsync("/endpoint/progress", new { client_session_auth_key = session, job_id = Guid.NewGuid().ToString() });
        Assert.Equal(HttpStatusCode.Unauthorized, progress.StatusCode);
        await using var db = await factory.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Data.BananaLabDbContext>>().CreateDbContextAsync();
        Assert.False(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(
            db.Set<Core.Sessions.ClientSession>(), s => s.ApiKeyId == keyId));
    }

    [Fact]
    public async Task A_session_key_stops_working_as_soon_as_its_account_is_disabled()
    {
        var (client, session, user, _) = await LoginWithNewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await SubmitAsync(client, session));
        var users = factory.Services.GetRequiredService<Core.Users.UserService>();

        Assert.Null(await users.SetDisabledAsync(Guid.NewGuid(), user.Id, disabled: true));

        Assert.Equal(HttpStatusCode.Unauthorized, await SubmitAsync(client, session));
    }

    [Fact]
    public async Task Wait_for_result_returns_the_final_result_with_every_field()
    {
        var (client, session) = await LoginAsync();
        var result = await (await client.PostAsJsonAsync("/endpoint", new
        {
            prompt = "cat", client_session_auth_key = session, wait_for_result = true, seed = 26262303, num_images = 2,
        })).ReadJsonAsync();

        Assert.True(result.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(result.GetProperty("job_id").GetString()));
        Assert.Equal(2, result.GetProperty("images").GetArrayLength());
        Assert.Equal(ScriptedGenerator.TinyPng, Convert.FromBase64String(result.GetProperty("images")[0].GetString()!));
        Assert.False(string.IsNullOrEmpty(result.GetProperty("text").GetString()));
        Assert.Equal(26262303, result.GetProperty("seed").GetInt64());
        Assert.Equal("cat", result.GetProperty("prompt").GetString());
        Assert.True(result.GetProperty("compute_duration").GetDouble() >= 0);
        Assert.True(result.GetProperty("total_duration").GetDouble() >= result.GetProperty("compute_duration").GetDouble());
        Assert.StartsWith("test-worker-", result.GetProperty("auth").GetString());
        Assert.Equal("API-Worker-Interface 0.3.5", result.GetProperty("worker_interface_version").GetString());
    }

    [Fact]
    public async Task Progress_reports_processing_with_previews_then_done_with_the_job_result()
    {
        var (client, session) = await LoginAsync(keyInBody: true);
        var start = await (await client.PostAsJsonAsync("/endpoint", new
        {
            prompt = "slow cat [slow:150][steps:8]", client_session_auth_key = session, wait_for_result = false,
        })).ReadJsonAsync();
        Assert.True(start.GetProperty("success").GetBoolean());
        var jobId = start.GetProperty("job_id").GetString();

        var sawPreview = false;
        System.Text.Json.JsonElement progress;
        do
        {
            progress = await (await client.PostAsJsonAsync("/endpoint/progress", new { client_session_auth_key = session, job_id = jobId })).ReadJsonAsync();
            Assert.True(progress.GetProperty("success").GetBoolean());
            Assert.Equal(jobId, progress.GetProperty("job_id").GetString());
            if (progress.GetProperty("job_state").GetString() == "processing" &&
                progress.GetProperty("progress").TryGetProperty("progress_data", out var data))
            {
                Assert.Equal(ScriptedGenerator.TinyPng, Convert.FromBase64String(data.GetProperty("images")[0].GetString()!));
                Assert.InRange(progress.GetProperty("progress").GetProperty("progress").GetInt32(), 1, 100);
                sawPreview = true;
            }
            await Task.Delay(50);
        }
        while (progress.GetProperty("job_state").GetString() == "processing");

        Assert.True(sawPreview);
        Assert.Equal("done", progress.GetProperty("job_state").GetString());
        Assert.Equal(100, progress.GetProperty("progress").GetProperty("progress").GetInt32());
        Assert.Equal(0, progress.GetProperty("progress").GetProperty("queue_position").GetInt32());
        var result = progress.GetProperty("job_result");
        Assert.Single(result.GetProperty("images").EnumerateArray());
        Assert.Equal("API-Worker-Interface 0.3.5", result.GetProperty("worker_interface_version").GetString());
        Assert.True(result.TryGetProperty("compute_duration", out _) && result.TryGetProperty("total_duration", out _) && result.TryGetProperty("auth", out _));
    }

    [Fact]
    public async Task Progress_carries_the_phase()
    {
        var (client, session) = await LoginAsync();
        var gate = Guid.NewGuid().ToString("N");
        var start = await (await client.PostAsJsonAsync("/endpoint", new { prompt = $"held [gate:{gate}]", client_session_auth_key = session })).ReadJsonAsync();
        var jobId = start.GetProperty("job_id").GetString();
        async Task<System.Text.Json.JsonElement> ProgressAsync() =>
            (await (await client.PostAsJsonAsync("/endpoint/progress", new { client_session_auth_key = session, job_id = jobId })).ReadJsonAsync())
            .GetProperty("progress");

        var progress = await ProgressAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while (progress.GetProperty("phase").GetString() == "queued") { await Task.Delay(20, timeout.Token); progress = await ProgressAsync(); }
        Assert.Equal("denoising", progress.GetProperty("phase").GetString());
        Assert.InRange(progress.GetProperty("progress").GetInt32(), 0, 99);

        ScriptedGenerator.OpenGate(gate);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while (progress.GetProperty("progress").GetInt32() < 100) { await Task.Delay(20, timeout.Token); progress = await ProgressAsync(); }
        Assert.Equal("done", progress.GetProperty("phase").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, progress.GetProperty("eta_seconds").ValueKind);
    }

    [Fact]
    public async Task A_failed_job_reports_failed_with_a_message()
    {
        var (client, session) = await LoginAsync();
        var start = await (await client.PostAsJsonAsync("/endpoint", new { prompt = "x [fail]", client_session_auth_key = session })).ReadJsonAsync();
        var jobId = start.GetProperty("job_id").GetString();
        System.Text.Json.JsonElement progress;
        do progress = await (await client.PostAsJsonAsync("/endpoint/progress", new { client_session_auth_key = session, job_id = jobId })).ReadJsonAsync();
        while (progress.GetProperty("job_state").GetString() == "processing" && await Task.Delay(50).ContinueWith(_ => true));

        Assert.Equal("failed", progress.GetProperty("job_state").GetString());
        Assert.False(progress.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(progress.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Sessions_belong_to_one_user()
    {
        var (client, session) = await LoginAsync();
        var (_, otherSession) = await LoginAsync();
        var start = await (await client.PostAsJsonAsync("/endpoint", new { prompt = "mine", client_session_auth_key = session })).ReadJsonAsync();

        var response = await client.PostAsJsonAsync("/endpoint/progress", new { client_session_auth_key = otherSession, job_id = start.GetProperty("job_id").GetString() });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False((await response.ReadJsonAsync()).GetProperty("success").GetBoolean());
    }

    [Theory]
    [InlineData("/login", "{\"endpoint_name\": \"test-model\"}", 401)]
    [InlineData("/login", "{\"endpoint_name\": \"nope\", \"api_key\": \"KEY\"}", 400)]
    [InlineData("/endpoint", "{\"prompt\": \"x\", \"client_session_auth_key\": \"made-up\"}", 401)]
    [InlineData("/endpoint", "{\"prompt\": \"\", \"client_session_auth_key\": \"SESSION\"}", 400)]
    [InlineData("/endpoint", "{\"prompt\": \"x\", \"client_session_auth_key\": \"SESSION\", \"seed\": \"abc\"}", 400)]
    [InlineData("/endpoint", "{not json", 400)]
    [InlineData("/endpoint/progress", "{\"client_session_auth_key\": \"SESSION\", \"job_id\": \"JID1\"}", 400)]
    public async Task Bad_requests_get_a_clear_error_and_no_charge(string path, string body, int status)
    {
        var (user, key) = await factory.CreateUserAsync();
        var (client, session) = await LoginAsync();
        var response = await client.PostAsync(path, new StringContent(body.Replace("KEY", key).Replace("SESSION", session),
            System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        var reply = await response.ReadJsonAsync();
        Assert.False(reply.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(reply.GetProperty("error").GetString()));
        Assert.Equal(100, await factory.Services.GetRequiredService<BananaLab.Core.Credits.CreditLedger>().GetBalanceAsync(user.Id));
    }
}
