using System.Net;
using System.Net.Http.Headers;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Studio;

/// <summary>Unknown addresses: a browser gets the studio's not-found page, an API caller a problem document.</summary>
public sealed class NotFoundPageTests(KestrelAppFactory app) : IClassFixture<KestrelAppFactory>
{
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    private async Task<HttpResponseMessage> GetAsync(string path, string accept, string? cookie = null)
    {
        app.StartServer();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        return await app.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task A_browser_asking_for_an_unknown_page_gets_the_not_found_page_with_status_404()
    {
        var response = await GetAsync("/no/such/page", BrowserAccept);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("nothing here", html);
        Assert.Contains("Back to the studio", html);
    }

    [Fact]
    public async Task The_first_response_is_already_dark_for_a_viewer_whose_cookie_says_dark()
    {
        var light = await (await GetAsync("/no/such/page", BrowserAccept)).Content.ReadAsStringAsync();
        var dark = await (await GetAsync("/no/such/page", BrowserAccept, "bananalab-theme=dark")).Content.ReadAsStringAsync();

        // BananaTheme's backgrounds: #15140f dark, #fbfaf6 light, written into the page's own <style>.
        Assert.Contains("--mud-palette-background: rgba(21,20,15,1)", dark);
        Assert.DoesNotContain("--mud-palette-background: rgba(21,20,15,1)", light);
        Assert.Contains("--mud-palette-background: rgba(251,250,246,1)", light);
    }

    [Theory]
    [InlineData("/api/v1/no-such-thing", "application/problem+json", "\"not_found\"")]
    [InlineData("/v1/images/no-such-thing", "application/json", "\"unknown_url\"")] // OpenAI's envelope under /v1
    public async Task An_unknown_api_address_answers_in_its_api_envelope_even_to_a_browser(string path, string mediaType, string code)
    {
        var response = await GetAsync(path, BrowserAccept);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(code, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_dialect_caller_posting_to_an_unknown_address_gets_problem_json_not_the_page()
    {
        app.StartServer();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/start/v5") { Content = new StringContent("{}", MediaTypeHeaderValue.Parse("application/json")) };
        request.Headers.Accept.ParseAdd(BrowserAccept);

        var response = await app.CreateClient().SendAsync(request);

        // 405 here: the static-asset fallback answers GET for every path, so the path "exists" for GET only.
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed });
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("nothing here", await response.Content.ReadAsStringAsync());
    }
}
