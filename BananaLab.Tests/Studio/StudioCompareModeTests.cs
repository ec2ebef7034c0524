using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Compare;
using BananaLab.Web.Pages.Studio;
using Bunit;
using MudBlazor;
using static BananaLab.Tests.Studio.StudioPageMarkup;

namespace BananaLab.Tests.Studio;

/// <summary>
/// The studio's Compare mode, on the real services: the summed price before Generate, only the settings every chosen model
/// takes, and one comparison of tasks shown side by side. "test-model" costs 5 at 1K and takes everything, "remote-model"
/// 3 and takes no seed, negative prompt, steps or guidance, "text-only-model" 1 and takes everything but a reference.
/// </summary>
public sealed class StudioCompareModeTests(RemoteProviderFactory app) : StudioTestContext(app), IClassFixture<RemoteProviderFactory>
{
    [Fact]
    public async Task The_summed_cost_shows_before_generate_and_settings_a_chosen_model_does_not_take_are_hidden()
    {
        var user = await SignInNewUserAsync(credits: 100);
        RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Equal("5 credits", page.Find("[data-testid=cost]").TextContent.Trim()), Wait);
        TypePrompt(page, "a fern");

        await page.InvokeAsync(() => page.FindComponents<MudSwitch<bool>>().Single().Instance.ValueChanged.InvokeAsync(true));
        page.WaitForAssertion(() => Assert.Equal("Choose 2 to 4 models to compare.", page.Find("[data-testid=disabled-reason]").TextContent.Trim()));

        await ChooseAsync(page, BananaLabFactory.TestModel, RemoteProviderFactory.RemoteModel);
        page.WaitForAssertion(() => Assert.Equal("8 credits", page.Find("[data-testid=cost]").TextContent.Trim()));
        Assert.Equal("Test model 5 + Remote-like model 3", page.Find("[data-testid=cost-breakdown]").TextContent.Trim());
        Assert.DoesNotContain("Negative prompt", page.Markup);
        Assert.DoesNotContain("Seed", page.Markup);
        Assert.DoesNotContain("Advanced", page.Markup);
        Assert.Empty(page.FindComponents<ReferencePicker>());
        // Only the aspect ratios both make, and only the images per task both make.
        Assert.Equal(["1:1", "16:9"], page.FindComponents<MudSelectItem<string>>().Select(i => i.Instance.Value).Where(v => v?.Contains(':') == true));
        Assert.Equal(1, page.FindComponents<MudNumericField<int>>().Single(f => f.Instance.Label == "Images").Instance.Max);

        await ChooseAsync(page, BananaLabFactory.TestModel, BananaLabFactory.TextOnlyModel);
        page.WaitForAssertion(() => Assert.Equal("6 credits", page.Find("[data-testid=cost]").TextContent.Trim()));
        Assert.Contains("Negative prompt", page.Markup);
        Assert.Contains("Seed", page.Markup);
        Assert.Contains("Advanced", page.Markup);
        Assert.Empty(page.FindComponents<ReferencePicker>()); // text-only-model takes no reference image

        // Nothing was reserved by pricing.
        Assert.Equal(100, (await Get<BananaLab.Core.Users.UserService>().FindAsync(user.Id))!.CreditBalance);
        Assert.Empty((await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Generate_makes_one_comparison_whose_results_sit_side_by_side()
    {
        var user = await SignInNewUserAsync(credits: 100);
        RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Equal("5 credits", page.Find("[data-testid=cost]").TextContent.Trim()), Wait);
        TypePrompt(page, "a red kite [fail]");
        await page.InvokeAsync(() => page.FindComponents<MudSwitch<bool>>().Single().Instance.ValueChanged.InvokeAsync(true));
        await ChooseAsync(page, RemoteProviderFactory.RemoteModel, BananaLabFactory.TestModel);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled")));

        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() =>
        {
            var columns = page.FindAll("[data-testid=comparison-column]");
            Assert.Equal([RemoteProviderFactory.RemoteModel, BananaLabFactory.TestModel], columns.Select(c => c.GetAttribute("data-model")));
            Assert.Equal(["succeeded", "failed"], columns.Select(c => c.QuerySelector("[data-testid=run-panel]")!.GetAttribute("data-status")));
        }, Wait);
        var comparison = page.FindComponent<ComparisonRuns>().Instance.ComparisonId;
        Assert.Equal(ComparisonRuns.Href(comparison), page.Find("[data-testid=comparison-link]").GetAttribute("href"));
        Assert.Equal(["Remote-like model", "Test model"], page.FindAll("[data-testid=run-model]").Select(e => e.TextContent.Trim()));
        var tasks = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items;
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.Equal(comparison, t.ComparisonId));
        // Only the remote-like model's 3 credits were charged; the failing one gave back its own 5.
        page.WaitForAssertion(() => Assert.Equal(97, Get<BananaLab.Core.Users.UserService>().FindAsync(user.Id).Result!.CreditBalance), Wait);
    }

    [Fact]
    public async Task Banana_nano_beside_its_turbo_runs_each_at_its_own_steps_and_guidance()
    {
        var user = await SignInNewUserAsync(credits: 100);
        RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Equal("5 credits", page.Find("[data-testid=cost]").TextContent.Trim()), Wait);
        TypePrompt(page, "a cat next to a banana");
        await page.InvokeAsync(() => page.FindComponents<MudSwitch<bool>>().Single().Instance.ValueChanged.InvokeAsync(true));

        // The shipped catalog's two offline models: 20 steps with guidance 3, and 4 steps without guidance.
        await ChooseAsync(page, "banana-nano", "banana-nano-turbo");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=generate]").HasAttribute("disabled")));
        Assert.DoesNotContain("Advanced", page.Markup); // one steps field cannot fit both, so neither is sent
        await page.Find("[data-testid=generate]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=comparison-column]").Count), Wait);
        var tasks = (await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items;
        Assert.Equal([("banana-nano", 20, 3.0), ("banana-nano-turbo", 4, 1.0)],
            tasks.OrderBy(t => t.ModelId).Select(t => (t.ModelId, t.Steps, t.Guidance)));
    }

    private static async Task ChooseAsync(IRenderedComponent<StudioPage> page, params string[] models)
    {
        var select = page.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Models to compare").Instance;
        await page.InvokeAsync(() => select.SelectedValuesChanged.InvokeAsync(models));
    }
}
