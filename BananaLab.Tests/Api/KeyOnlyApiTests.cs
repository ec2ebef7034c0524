using Xunit.Abstractions;
using System.Net;
using System.Text;
using BananaLab.Core.Data;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Tests.Studio;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Api;

/// <summary>
/// "A studio cookie never authorizes an API call": every mapped API endpoint, in every dialect, refuses a
/// real signed-in cookie sent the way a cross-site form can send it (foreign Origin, no token, text/plain,
/// multipart), in that dialect's own envelope, and charges nothing.
/// </summary>
public sealed class KeyOnlyApiTests(BananaLabFactory app, ITestOutputHelper output) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task A_signed_in_studio_cookie_alone_is_refused_by_every_api_endpoint()
    {
        // An admin's cookie: if any endpoint honoured it, even the admin API would answer.
        var admin = await app.Services.GetRequiredService<UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Cookie admin", UserRole.Admin, "password123", initialCredits: 500);
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var signedIn = await AccountTests.PostFormAsync(browser, "/account/login", "login",
            new() { ["Form.Email"] = admin.Email, ["Form.Password"] = "password123" });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);

        var endpoints = MappedEndpoints.Api(app.Services);
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} API endpoints found: {string.Join(", ", endpoints)}");
        var before = await LedgerAsync(admin.Id);
        var problems = new List<string>();
        var sent = 0;
        foreach (var endpoint in endpoints)
        {
            foreach (var (kind, content) in CrossSiteBodies())
            {
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Path) { Content = content };
                request.Headers.Add("Origin", "https://evil.example");
                using var response = await browser.SendAsync(request);
                sent++;
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                var dialect = MappedEndpoints.DialectOf(endpoint.Path);
                if (dialect != "banana" && status != 401 && !RefusedForItsBody(dialect, kind, status))
                    problems.Add($"{endpoint} ({kind}): {status} {Truncate(text)}");
                else if (MappedEndpoints.EnvelopeProblem(endpoint.Path, status, response.Content.Headers.ContentType?.MediaType, text) is { } wrong)
                    problems.Add($"{endpoint} ({kind}): {wrong}: {Truncate(text)}");
            }
        }

        output.WriteLine($"Cookie-only: {endpoints.Count} API endpoints, {sent} requests, {problems.Count} not refused.");
        Assert.True(problems.Count == 0, $"{problems.Count} of {sent} cookie-only requests were not refused:\n{string.Join("\n", problems)}");
        Assert.Equal(before, await LedgerAsync(admin.Id));
        // The cookie still works where it belongs.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/")).StatusCode);
    }

    /// <summary>
    /// Refusals that come before any caller is looked at, so they say nothing about the cookie: routing answers
    /// 415 for a content type a native endpoint does not accept, and the session interface, whose key may travel
    /// in the JSON body, answers 400 for a body that is not JSON. A JSON body must always get 401.
    /// </summary>
    private static bool RefusedForItsBody(string dialect, string kind, int status) => kind != "json" && (dialect, status) is ("native", 415) or ("session", 400);

    /// <summary>What an HTML form on another site can send: no custom headers, only these three content types (and JSON via fetch no-cors is refused by CORS preflight, but send it too).</summary>
    private static IEnumerable<(string Kind, HttpContent Content)> CrossSiteBodies()
    {
        const string payload = "{\"data\":[\"x\"],\"prompt\":\"a cat\",\"model\":\"test-model\",\"endpoint_name\":\"test-model\",\"name\":\"k\",\"url\":\"https://example.test/\"}";
        yield return ("text/plain", new StringContent(payload, Encoding.UTF8, "text/plain"));
        yield return ("form", new FormUrlEncodedContent(new Dictionary<string, string> { ["prompt"] = "a cat", ["model"] = "test-model" }));
        yield return ("multipart", new MultipartFormDataContent
        {
            { new StringContent("a cat"), "prompt" }, { new StringContent("test-model"), "model" },
            { new ByteArrayContent(ScriptedGenerator.TinyPng), "image", "i.png" },
        });
        yield return ("json", new StringContent(payload, Encoding.UTF8, "application/json"));
    }

    private async Task<(int Entries, int Balance, int Tasks)> LedgerAsync(Guid userId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return (await db.CreditEntries.CountAsync(e => e.UserId == userId),
            (await db.Users.SingleAsync(u => u.Id == userId)).CreditBalance,
            await db.Tasks.CountAsync(t => t.UserId == userId));
    }

    private static string Truncate(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
