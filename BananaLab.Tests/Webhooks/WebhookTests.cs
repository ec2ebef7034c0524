using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BananaLab.Core.Data;
using BananaLab.Core.Webhooks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace BananaLab.Tests.Webhooks;

public sealed class WebhookTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private const string Model = BananaLabFactory.TestModel;

    [Fact]
    public async Task Task_webhook_is_called_with_a_signed_event_that_verifies()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var secret = (await (await client.GetAsync("/api/v1/webhook")).ReadJsonAsync()).GetProperty("secret").GetString()!;

        var created = await client.SubmitAsync(new { model = Model, prompt = "hooked", webhookUrl = receiver.BaseUrl + "/hook" });
        var call = receiver.Next();

        Assert.Equal("/hook", call.Path);
        var signature = call.Headers["BananaLab-Signature"].Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(WebhookDispatcher.Sign(secret, long.Parse(signature["t"]), call.Body), signature["v1"]);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal("task.succeeded", body.GetProperty("type").GetString());
        var task = body.GetProperty("data").GetProperty("task");
        Assert.Equal(created.Id, task.GetProperty("id").GetGuid());
        Assert.StartsWith(new Uri(client.BaseAddress!, "/files/").ToString(), task.GetProperty("images")[0].GetProperty("url").GetString());

        var log = await WaitForLogAsync(client, created.Id, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(1, log.GetProperty("attempts").GetInt32());
        Assert.Equal(200, log.GetProperty("lastStatusCode").GetInt32());
    }

    [Fact]
    public async Task A_delivery_carries_Standard_Webhooks_headers_that_the_packages_own_verifier_accepts_and_a_tampered_body_fails()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var settings = await (await client.GetAsync("/api/v1/webhook")).ReadJsonAsync();
        var secret = settings.GetProperty("standardWebhooksSecret").GetString()!;

        await client.SubmitAsync(new { model = Model, prompt = "standard", webhookUrl = receiver.BaseUrl + "/std" });
        var call = receiver.Next();
        var headers = new HeaderDictionary(call.Headers.ToDictionary(h => h.Key, h => new StringValues(h.Value)));
        var verifier = new StandardWebhook(secret);

        verifier.Verify(call.Body, headers);
        Assert.Equal(JsonDocument.Parse(call.Body).RootElement.GetProperty("id").GetString(), headers["webhook-id"].ToString());
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(call.Body.Replace("standard", "tampered"), headers));
        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(Convert.ToBase64String(new byte[24])).Verify(call.Body, headers));
        Assert.True(call.Headers.ContainsKey(WebhookDispatcher.SignatureHeader), "the BananaLab-Signature header stays for existing receivers");
    }

    [Fact]
    public async Task A_secret_is_itself_a_Standard_Webhooks_secret_and_an_older_url_safe_one_maps_to_the_same_key()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var settings = await (await client.GetAsync("/api/v1/webhook")).ReadJsonAsync();
        var secret = settings.GetProperty("secret").GetString()!;

        Assert.Equal(secret, settings.GetProperty("standardWebhooksSecret").GetString());
        Assert.Equal(24, WebhookSecrets.SigningKey(secret).Length);
        const string older = "whsec_-_8AAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        Assert.Equal(Convert.FromBase64String("+/8AAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), WebhookSecrets.SigningKey(older));
        Assert.Equal("whsec_+/8AAAAAAAAAAAAAAAAAAAAAAAAAAAAA", WebhookSecrets.StandardForm(older));
        Assert.Equal("whsec_" + Convert.ToBase64String("legacy"u8), WebhookSecrets.StandardForm("legacy"));
    }

    [Fact]
    public async Task Failed_deliveries_are_retried_with_backoff_until_they_succeed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer(500, 503);
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("/api/v1/webhook", new { url = receiver.BaseUrl + "/account" })).StatusCode);

        var created = await client.SubmitAsync(new { model = Model, prompt = "doomed [fail]" });
        var calls = new[] { receiver.Next(), receiver.Next(), receiver.Next() };

        Assert.All(calls, c => Assert.Equal("task.failed", JsonDocument.Parse(c.Body).RootElement.GetProperty("type").GetString()));
        var log = await WaitForLogAsync(client, created.Id, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(3, log.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task FastDeploy_async_webhook_receives_the_batch_result_with_its_unique_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var start = await (await client.PostAsJsonAsync("/async", new { data = new[] { "one", "two" }, webhook = receiver.BaseUrl + "/fd" })).ReadJsonAsync();
        var body = JsonDocument.Parse(receiver.Next().Body).RootElement;

        Assert.Equal(start.GetProperty("unique_id").GetString(), body.GetProperty("unique_id").GetString());
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal("done", body.GetProperty("status").GetString());
        Assert.Equal(2, body.GetProperty("prediction").GetArrayLength());
        Assert.Empty(receiver.Calls);
    }

    [Theory]
    [InlineData("http://10.0.0.5/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://[::ffff:192.168.1.1]/")]
    [InlineData("ftp://example.test/hook")]
    [InlineData("not a url")]
    [InlineData("http://user:pass@example.test/")]
    public async Task Webhook_urls_into_private_networks_or_of_the_wrong_form_are_refused(string url)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var submit = await client.PostAsJsonAsync("/api/v1/tasks", new { model = Model, prompt = "x", webhookUrl = url });
        var account = await client.PutAsJsonAsync("/api/v1/webhook", new { url });

        Assert.Equal(HttpStatusCode.BadRequest, submit.StatusCode);
        Assert.Equal("invalid_webhook_url", (await submit.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, account.StatusCode);
        Assert.Equal(0, (await (await client.GetAsync("/api/v1/tasks")).ReadJsonAsync()).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("http://10.255.255.1/steal")]
    public async Task A_redirect_is_not_followed_but_recorded_as_a_failed_attempt_and_retried_with_backoff(string location)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RedirectTo = location;
        receiver.Answer(302, 302);
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var created = await client.SubmitAsync(new { model = Model, prompt = "redirected", webhookUrl = receiver.BaseUrl + "/r" });
        var failed = await WaitForLogAsync(client, created.Id, d => d.GetProperty("attempts").GetInt32() >= 1);

        Assert.Equal("pending", failed.GetProperty("status").GetString());
        Assert.Equal(302, failed.GetProperty("lastStatusCode").GetInt32());
        Assert.Contains("redirects are not followed", failed.GetProperty("lastError").GetString());
        var calls = new[] { receiver.Next(), receiver.Next(), receiver.Next() };
        Assert.All(calls, c => Assert.Equal("/r", c.Path));
        var delivered = await WaitForLogAsync(client, created.Id, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(3, delivered.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_delivery_that_throws_is_recorded_as_a_failed_attempt_and_retried()
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = Model, prompt = "no webhook" });

        // A URL no HTTP request can be made for (as from an older row) makes the attempt itself throw.
        await AddDeliveryAsync(user.Id, created.Id, "file:///etc/passwd", createdAt: DateTime.UtcNow);
        var log = await WaitForLogAsync(client, created.Id, d => d.GetProperty("attempts").GetInt32() >= 2);

        Assert.Equal("pending", log.GetProperty("status").GetString());
        Assert.StartsWith("The delivery failed:", log.GetProperty("lastError").GetString());
    }

    [Theory]
    [InlineData("/old")]
    [InlineData("file:///etc/passwd")]
    public async Task A_delivery_older_than_MaxAgeHours_ends_as_failed_without_another_attempt(string url)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = Model, prompt = "no webhook" });

        await AddDeliveryAsync(user.Id, created.Id, url.StartsWith('/') ? receiver.BaseUrl + url : url, createdAt: DateTime.UtcNow.AddHours(-24).AddMinutes(-1));
        var log = await WaitForLogAsync(client, created.Id, d => d.GetProperty("status").GetString() != "pending");

        Assert.Equal("failed", log.GetProperty("status").GetString());
        Assert.Equal(0, log.GetProperty("attempts").GetInt32());
        Assert.Contains("Gave up: not delivered within 24 hours", log.GetProperty("lastError").GetString());
        Assert.Empty(receiver.Calls);
    }

    [Fact]
    public async Task Guarded_handler_refuses_hosts_that_resolve_to_blocked_addresses_before_connecting()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var handler = GuardedHttpHandler.Create(new OutboundAddressPolicy([]));
        using var http = new HttpClient(handler);
        var port = new Uri(receiver.BaseUrl).Port;

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://localhost:{port}/"));

        Assert.Contains("private or reserved", error.Message);
        Assert.Empty(receiver.Calls);
    }

    [Fact]
    public async Task Someone_elses_delivery_log_is_not_found()
    {
        var (_, ownerKey) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        var created = await factory.CreateClient(ownerKey).SubmitAsync(new { model = Model, prompt = "mine" });
        Assert.Equal(HttpStatusCode.NotFound, (await factory.CreateClient(otherKey).GetAsync($"/api/v1/tasks/{created.Id}/webhooks")).StatusCode);
    }

    private async Task AddDeliveryAsync(Guid userId, Guid taskId, string url, DateTime createdAt)
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        db.Add(new WebhookDelivery
        {
            UserId = userId, TaskId = taskId, Url = url, EventType = "task.succeeded", CreatedAt = createdAt, NextAttemptAt = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    private static async Task<JsonElement> WaitForLogAsync(HttpClient client, Guid taskId, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var log = await (await client.GetAsync($"/api/v1/tasks/{taskId}/webhooks")).ReadJsonAsync();
            var match = log.EnumerateArray().FirstOrDefault(condition);
            if (match.ValueKind != JsonValueKind.Undefined) return match;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Delivery log never matched: {log}");
            await Task.Delay(100);
        }
    }
}

public sealed class OutboundAddressPolicyTests
{
    private readonly OutboundAddressPolicy _policy = new([]);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.0.10")]
    [InlineData("100.64.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("ff02::1")]
    public void Private_and_reserved_addresses_are_blocked(string address) =>
        Assert.False(_policy.IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("64:ff9b::808:808")]
    public void Public_addresses_are_allowed(string address) => Assert.True(_policy.IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void Configured_networks_are_allowed_even_when_private() =>
        Assert.True(new OutboundAddressPolicy(["127.0.0.1/32"]).IsAllowed(IPAddress.Loopback));
}
