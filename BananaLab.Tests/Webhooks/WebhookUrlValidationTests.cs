using System.Net;
using System.Net.Http.Json;
using BananaLab.Core.Webhooks;
using BananaLab.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace BananaLab.Tests.Webhooks;

/// <summary>The app with the production address policy: no network allowed, not even the loopback the other webhook tests use.</summary>
public sealed class ProductionAddressPolicyFactory : BananaLabFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton(new OutboundAddressPolicy([])));
    }
}

public sealed class WebhookUrlValidationTests(ProductionAddressPolicyFactory factory) : IClassFixture<ProductionAddressPolicyFactory>
{
    [Theory]
    [MemberData(nameof(EmbeddedForms.Blocked), MemberType = typeof(EmbeddedForms))]
    public async Task Webhook_urls_with_an_embedded_private_IPv4_address_are_refused_at_submit(string address, string form)
    {
        var url = $"http://[{address}]:8080/hook";
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var submit = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt = "x", webhookUrl = url });
        var account = await client.PutAsJsonAsync("/api/v1/webhook", new { url });

        Assert.True(submit.StatusCode == HttpStatusCode.BadRequest, form);
        var problem = await submit.ReadJsonAsync();
        Assert.Equal("invalid_webhook_url", problem.GetProperty("code").GetString());
        Assert.Contains("private or reserved", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, account.StatusCode);
    }

    [Fact]
    public async Task The_refusal_names_the_embedded_IPv4_address_it_judged()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var submit = await client.PostAsJsonAsync("/api/v1/tasks", new { model = BananaLabFactory.TestModel, prompt = "x", webhookUrl = "http://[::ffff:0:7f00:1]:9/" });

        Assert.Contains("embeds the IPv4 address 127.0.0.1", (await submit.ReadJsonAsync()).GetProperty("detail").GetString());
    }
}
