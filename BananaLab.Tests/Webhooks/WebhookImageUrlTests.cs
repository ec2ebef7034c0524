using System.Net;
using System.Text.Json;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Webhooks;

/// <summary>
/// The image links in a webhook's payload point at this server: with no <c>Webhooks:PublicBaseUrl</c> they use the
/// origin of the request that created the task, here a real Kestrel on a random loopback port.
/// </summary>
public sealed class WebhookImageUrlTests(KestrelAppFactory app) : IClassFixture<KestrelAppFactory>
{
    [Fact]
    public async Task The_payloads_image_url_is_on_the_origin_the_task_was_created_at_and_fetchable_there()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        app.StartServer();
        var user = await app.Services.GetRequiredService<UserService>().CreateAsync($"{Guid.NewGuid():N}@example.test", "Hooked", UserRole.User);
        var key = (await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(user.Id, "hook")).Secret;
        using var client = app.CreateClient(key);
        Assert.NotEqual(5080, client.BaseAddress!.Port);

        await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "linked", webhookUrl = receiver.BaseUrl + "/img" });
        var url = JsonDocument.Parse(receiver.Next().Body).RootElement.GetProperty("data").GetProperty("task").GetProperty("images")[0].GetProperty("url").GetString()!;

        Assert.StartsWith($"{client.BaseAddress.Scheme}://{client.BaseAddress.Authority}/files/", url);
        using var anonymous = new HttpClient();
        using var image = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
    }
}

/// <summary>A configured <c>Webhooks:PublicBaseUrl</c> (the address receivers reach behind a proxy) wins over the request's origin.</summary>
public sealed class WebhookPublicBaseUrlTests(WebhookPublicBaseUrlTests.PublicUrlFactory factory) : IClassFixture<WebhookPublicBaseUrlTests.PublicUrlFactory>
{
    public sealed class PublicUrlFactory : BananaLabFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Webhooks:PublicBaseUrl"] = "https://images.example.test/lab/" };
    }

    [Fact]
    public async Task The_configured_public_base_url_is_used_for_the_payloads_image_links()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        await client.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "proxied", webhookUrl = receiver.BaseUrl + "/p" });
        var url = JsonDocument.Parse(receiver.Next().Body).RootElement.GetProperty("data").GetProperty("task").GetProperty("images")[0].GetProperty("url").GetString();

        Assert.StartsWith("https://images.example.test/lab/files/", url);
    }
}
