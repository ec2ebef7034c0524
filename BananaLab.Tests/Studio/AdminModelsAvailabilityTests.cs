using BananaLab.Tests.Workers;
using BananaLab.Web.Pages.Admin;
using Bunit;

namespace BananaLab.Tests.Studio;

/// <summary>The admin models page says which worker runs each model, and why a model cannot run.</summary>
public sealed class AdminModelsAvailabilityTests(OrphanModelFactory app) : AdminTestContext(app), IClassFixture<OrphanModelFactory>
{
    [Fact]
    public async Task Each_model_shows_the_workers_that_run_it_and_one_nobody_can_run_says_why()
    {
        await SignInAdminAsync();
        RenderHosts();

        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.Contains("Updated", page.Markup));
        var orphan = page.Find($"[data-serving='{OrphanModelFactory.Orphan}']");
        Assert.Equal("false", orphan.GetAttribute("data-available"));
        Assert.Contains("Unavailable: no running worker serves it; this installation has no generator for its provider 'nowhere'.", orphan.TextContent);
        var served = page.Find($"[data-serving='{Infrastructure.BananaLabFactory.TestModel}']");
        Assert.Equal("true", served.GetAttribute("data-available"));
        Assert.StartsWith("test-worker-", served.TextContent.Trim());
    }
}
