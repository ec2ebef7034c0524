using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Api.Comparisons;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace BananaLab.Tests.Browser;

/// <summary>A comparison made through the API of the README's app, then read in Chromium: its page and the history's link to it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ComparisonBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    private T Get<T>() where T : notnull => browser.Host.Get<T>();

    [Fact]
    public Task The_comparison_page_shows_each_models_result_side_by_side_and_the_history_links_to_it() => browser.RunAsync(output, async page =>
    {
        var email = AccountSteps.NewEmail();
        var user = await Get<UserService>().CreateAsync(email, "Cam Compare", UserRole.User, AccountSteps.Password, initialCredits: 100);
        var key = await Get<ApiKeyService>().CreateAsync(user.Id, "compare");
        using var api = new HttpClient { BaseAddress = browser.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        var response = await api.PostAsJsonAsync("/api/v1/comparisons",
            new { prompt = "a green apple", models = new[] { BrowserFixture.EmbeddedModel, BrowserFixture.TurboModel }, size = "1K" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var comparison = (await response.Content.ReadFromJsonAsync<ComparisonResponse>(ApiClientExtensions.Json))!;
        foreach (var task in comparison.Tasks) await browser.Host.WaitForFinishAsync(task.Id, BrowserFixture.GenerationTimeout);

        await AccountSteps.SignInAsync(page, email, AccountSteps.Password);
        await AccountSteps.WaitForPathAsync(page, "/");
        await page.GotoAsync($"/comparisons/{comparison.Id}");
        await StudioSteps.ExpectStyledAndConnectedAsync(page);

        var columns = page.GetByTestId("comparison-column");
        await Expect(columns).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("comparison-prompt")).ToHaveTextAsync("a green apple");
        for (var i = 0; i < 2; i++)
        {
            await Expect(columns.Nth(i).GetByTestId("run-panel")).ToHaveAttributeAsync("data-status", "succeeded");
            await Expect(columns.Nth(i).GetByTestId("result-image")).ToBeVisibleAsync();
        }
        await Expect(columns.Nth(0).GetByTestId("run-model")).ToHaveTextAsync("Banana Nano");
        await Expect(columns.Nth(1).GetByTestId("run-model")).ToHaveTextAsync("Banana Nano Turbo");
        // Side by side: the same top edge, the second column to the right of the first, neither overlapping.
        var (left, right) = ((await columns.Nth(0).BoundingBoxAsync())!, (await columns.Nth(1).BoundingBoxAsync())!);
        output.WriteLine($"Columns: {left.X},{left.Y} {left.Width}×{left.Height} and {right.X},{right.Y} {right.Width}×{right.Height}");
        Assert.Equal(left.Y, right.Y, 1.0);
        Assert.True(right.X >= left.X + left.Width, "The second model's result should stand to the right of the first's.");
        Assert.True(left.Width > 200 && right.Width > 200, "Each column should have room for its images.");

        await page.GotoAsync("/history");
        var links = page.GetByTestId("comparison-link");
        await Expect(links).ToHaveCountAsync(2);
        await links.First.ClickAsync();
        await AccountSteps.WaitForPathAsync(page, $"/comparisons/{comparison.Id}");
        await Expect(page.GetByTestId("comparison-column")).ToHaveCountAsync(2);
    });
}
