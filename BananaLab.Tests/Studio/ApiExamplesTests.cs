using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Developers;
using Bunit;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using MudBlazor;

namespace BananaLab.Tests.Studio;

public sealed partial class ApiExamplesTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    private const string Server = "https://studio.example.test/";
    private const string KeyText = "bl_AbCdEfGhI…";

    private IReadOnlyList<ApiDialectExample> Examples => Get<ApiExamples>().For(Server, KeyText, BananaLabFactory.TestModel);

    [Fact]
    public void There_are_examples_for_every_dialect_the_server_speaks()
    {
        Assert.Equal(["native", "banana", "session", "fastdeploy", "bentoml", "openai"], Examples.Select(d => d.Id));
        Assert.All(Examples, d => Assert.NotEmpty(d.Steps));
    }

    [Fact]
    public void Every_example_calls_a_route_the_app_maps_with_that_method()
    {
        var endpoints = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Route: Normalize(e.RoutePattern.RawText), Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []))
            .ToList();

        foreach (var step in Examples.SelectMany(d => d.Steps))
            Assert.True(endpoints.Any(e => e.Route == Normalize(step.Route) && e.Methods.Contains(step.Method)),
                $"'{step.Title}' calls {step.Method} {step.Route}, which the app does not map.");
    }

    [Fact]
    public void Every_example_points_at_this_server_and_carries_the_key_or_the_session_made_with_it()
    {
        foreach (var step in Examples.SelectMany(d => d.Steps))
        {
            Assert.StartsWith("curl ", step.Curl);
            Assert.Contains($"'https://studio.example.test{Regex.Replace(step.Route, @"\{id[^}]*\}", "TASK_ID").Replace("{index:int}", "0")}", step.Curl);
            Assert.True(step.Curl.Contains(KeyText) || step.Curl.Contains("SESSION_KEY"), $"'{step.Title}' has no key.");
        }
    }

    [Fact]
    public void Values_are_quoted_for_the_shell()
    {
        Assert.Equal("'it'\\''s'", ApiExamples.ShellQuote("it's"));
        var examples = Get<ApiExamples>().For(Server, KeyText, "odd'model");
        Assert.Contains("odd'\\''model", examples[0].Steps[0].Curl);
    }

    /// <summary>The examples that need nothing from an earlier call are sent as written (with a real key) and must work.</summary>
    [Fact]
    public async Task The_self_contained_examples_work_against_the_real_server()
    {
        var (_, secret) = await App.CreateUserAsync(credits: 1000);
        using var client = App.CreateClient();
        var sent = 0;
        foreach (var step in Examples.SelectMany(d => d.Steps))
        {
            if (step.Method != "POST" || step.Route.Contains('{') || BodyOf(step.Curl) is not { } body) continue;
            if (Placeholder().IsMatch(body) || body.Contains("webhook")) continue;
            using var request = new HttpRequestMessage(HttpMethod.Post, step.Route)
            {
                Content = new StringContent(body.Replace(KeyText, secret), Encoding.UTF8, "application/json"),
            };
            if (step.Curl.Contains("Authorization: Bearer")) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            request.Headers.Accept.ParseAdd(Regex.Match(step.Curl, "'Accept: ([^']+)'").Groups[1].Value);

            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"'{step.Title}' answered {(int)response.StatusCode}: {text}");
            Assert.DoesNotContain("\"success\":false", text);
            Assert.DoesNotContain("\"message\":\"error", text);
            sent++;
        }
        Assert.True(sent >= 6, $"Only {sent} examples were sent.");
    }

    [Fact]
    public async Task The_page_fills_in_the_server_address_and_the_chosen_key_prefix()
    {
        var user = await SignInNewUserAsync();
        var keys = Get<ApiKeyService>();
        var older = await keys.CreateAsync(user.Id, "laptop");
        var newer = await keys.CreateAsync(user.Id, "server");
        var revoked = await keys.CreateAsync(user.Id, "retired");
        await keys.RevokeAsync(user.Id, revoked.Key.Id);
        var popovers = RenderProviders();

        var cut = Render<ApiExamplesPage>();

        var baseUrl = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().BaseUri.TrimEnd('/');
        cut.WaitForAssertion(() => Assert.Contains($"Bearer {newer.Key.Prefix}…", cut.Markup), Wait);
        Assert.Contains($"'{baseUrl}/api/v1/tasks'", cut.Markup);
        Assert.DoesNotContain(older.Key.Prefix, cut.Markup);
        Assert.DoesNotContain(newer.Secret, cut.Markup);
        foreach (var dialect in Get<ApiExamples>().For(baseUrl, "x", BananaLabFactory.TestModel))
            Assert.NotNull(cut.Find($"section#{dialect.Id}"));
        // The key list offers the active keys only.
        var select = cut.FindComponents<MudSelect<Guid>>().Single();
        select.Find("div.mud-input-control").MouseDown();
        popovers.WaitForAssertion(() => Assert.Equal(2, popovers.FindAll(".mud-list-item").Count), Wait);
        Assert.Contains("laptop", popovers.Markup);
        Assert.DoesNotContain("retired", popovers.Markup);

        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(older.Key.Id));

        cut.WaitForAssertion(() => Assert.Contains($"Bearer {older.Key.Prefix}…", cut.Markup), Wait);
        Assert.DoesNotContain(newer.Key.Prefix, cut.Markup);
        Assert.Contains($"\"apiKey\": \"{older.Key.Prefix}…\"", cut.Markup.Replace("&quot;", "\""));
    }

    [Fact]
    public async Task Without_a_key_the_page_uses_a_placeholder_and_points_to_the_keys_page()
    {
        var user = await SignInNewUserAsync();
        var revoked = await Get<ApiKeyService>().CreateAsync(user.Id, "gone");
        await Get<ApiKeyService>().RevokeAsync(user.Id, revoked.Key.Id);
        RenderProviders();

        var cut = Render<ApiExamplesPage>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#no-keys")), Wait);
        Assert.Contains($"Bearer {ApiExamples.KeyPlaceholder}", cut.Markup);
        Assert.DoesNotContain(revoked.Key.Prefix, cut.Markup);
        Assert.Contains(cut.FindAll("#no-keys a"), a => a.GetAttribute("href") == "/developers/keys");
    }

    private static string Normalize(string? route) => "/" + (route ?? "").Trim('/');

    /// <summary>The JSON after -d, unquoted from the shell.</summary>
    private static string? BodyOf(string curl)
    {
        var match = Regex.Match(curl, @"-d '((?:[^']|'\\'')*)'");
        return match.Success ? match.Groups[1].Value.Replace("'\\''", "'") : null;
    }

    [GeneratedRegex("CALL_ID|SESSION_KEY|JOB_ID|UNIQUE_ID")]
    private static partial Regex Placeholder();
}
