using System.Net;
using System.Text.RegularExpressions;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Hosting;

/// <summary>
/// The host started the way users start it, in the default environment. Every test before these ran the
/// host in Development, where ASP.NET Core reads the build's static web assets by itself, so none of them
/// could see the README's own command serving every stylesheet and script as an empty 200.
/// </summary>
public sealed partial class ProductionHostTests
{
    [Fact]
    public async Task The_readme_run_command_serves_every_stylesheet_and_script_the_sign_in_page_links()
    {
        await using var host = await ProductionHost.StartReadmeAsync();

        await AssertAssetsArriveAsync(host);
        Assert.Contains("Hosting environment: Production", host.RecentLog);
    }

    [Fact]
    public async Task A_publish_output_started_with_dotnet_serves_every_stylesheet_and_script()
    {
        using var publish = new TempDirectory();
        await ProductionHost.PublishAsync(publish.Path);
        Assert.True(File.Exists(Path.Combine(publish.Path, "models", "banana-nano", "model_index.json")),
            "The publish output carries the embedded model, so it generates offline.");

        await using var host = await ProductionHost.StartPublishedAsync(publish.Path);

        await AssertAssetsArriveAsync(host);
        Assert.Contains("Hosting environment: Production", host.RecentLog);
    }

    private static async Task AssertAssetsArriveAsync(ProductionHost host)
    {
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var html = await client.GetStringAsync("/account/login");
        var assets = LinkedAssets(html).ToList();
        Assert.Contains(assets, a => a.Url.Contains("_framework/blazor.web"));
        Assert.Contains(assets, a => a.Url.Contains("MudBlazor.min") && a.Kind == "css");
        Assert.Contains(assets, a => a.Url.Contains("MudBlazor.min") && a.Kind == "js");
        Assert.Contains(assets, a => a.Url.Contains(".styles.css"));

        foreach (var (url, kind) in assets)
        {
            using var response = await client.GetAsync(url);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}");
            Assert.True(body.Length > 0, $"{url} arrived empty.{Environment.NewLine}{host.RecentLog}");
            var expected = kind == "css" ? "text/css" : "text/javascript";
            Assert.Equal(expected, response.Content.Headers.ContentType?.MediaType);
        }
        Assert.DoesNotContain("Static Web Assets are not enabled", host.RecentLog);
        Assert.DoesNotContain("WebRootPath was not found", host.RecentLog);
    }

    /// <summary>Every stylesheet (<c>link rel=stylesheet</c>) and script (<c>script src</c>) the page links.</summary>
    private static IEnumerable<(string Url, string Kind)> LinkedAssets(string html)
    {
        foreach (Match link in StylesheetLink().Matches(html)) yield return (link.Groups["href"].Value, "css");
        foreach (Match script in ScriptSource().Matches(html)) yield return (script.Groups["src"].Value, "js");
    }

    [GeneratedRegex("""<link[^>]*rel="stylesheet"[^>]*href="(?<href>[^"]+)"|<link[^>]*href="(?<href>[^"]+)"[^>]*rel="stylesheet""")]
    private static partial Regex StylesheetLink();

    [GeneratedRegex("""<script[^>]*src="(?<src>[^"]+)""")]
    private static partial Regex ScriptSource();
}
