using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Admin;
using Bunit;

namespace BananaLab.Tests.Studio;

/// <summary>Without a worker, submitted tasks stay queued, so the depth the page shows is exact.</summary>
public sealed class AdminModelsTests(NoWorkerFactory app) : AdminTestContext(app), IClassFixture<NoWorkerFactory>
{
    private static string Queued(IRenderedComponent<Models> page, string model) => page.Find($"[data-queued='{model}']").TextContent;

    [Fact]
    public async Task Catalog_shows_each_model_with_sizes_prices_and_reference_support()
    {
        await SignInAdminAsync();
        RenderHosts();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.Contains("Updated", page.Markup));
        var row = page.FindAll("#models tr").Single(r => r.TextContent.Contains(BananaLabFactory.TestModel));
        Assert.Contains("Test model", row.TextContent);
        Assert.Contains("64 × 64", row.TextContent);
        Assert.Contains("1K · 5", row.TextContent);
        Assert.Contains("2K · 10", row.TextContent);
        Assert.Contains("Yes", row.TextContent);
        var textOnly = page.FindAll("#models tr").Single(r => r.TextContent.Contains(BananaLabFactory.TextOnlyModel));
        Assert.Contains("1K · 1", textOnly.TextContent);
        Assert.DoesNotContain("2K", textOnly.TextContent);
        Assert.Contains("No", textOnly.TextContent);
    }

    [Fact]
    public async Task Queue_depth_updates_when_a_task_is_submitted_and_canceled()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        RenderHosts();
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.Contains("Updated", page.Markup));
        var before = int.Parse(Queued(page, BananaLabFactory.TextOnlyModel));

        var submitted = await Get<TaskService>().SubmitAsync(user.Id,
            new SubmitTaskRequest { ModelId = BananaLabFactory.TextOnlyModel, Prompt = "a paper boat", ImageCount = 1 }, default);
        Assert.True(submitted.Succeeded);

        // The page re-reads the depth when the notifier's event arrives (at most once a second).
        page.WaitForAssertion(() => Assert.Equal((before + 1).ToString(), Queued(page, BananaLabFactory.TextOnlyModel)), TimeSpan.FromSeconds(5));
        Assert.Equal("0", page.Find($"[data-running='{BananaLabFactory.TextOnlyModel}']").TextContent);

        Assert.True((await Get<TaskService>().CancelAsync(submitted.Value!.Id, user.Id, default)).Succeeded);
        page.WaitForAssertion(() => Assert.Equal(before.ToString(), Queued(page, BananaLabFactory.TextOnlyModel)), TimeSpan.FromSeconds(5));
    }
}
