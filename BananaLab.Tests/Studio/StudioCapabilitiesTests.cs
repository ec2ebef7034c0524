using BananaLab.Core.Tasks;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Studio;
using Bunit;
using MudBlazor;
using static BananaLab.Tests.Studio.StudioPageMarkup;

namespace BananaLab.Tests.Studio;

/// <summary>The studio form shows, and sends, only what the chosen model's provider takes.</summary>
public sealed class StudioCapabilitiesTests(RemoteProviderFactory app) : StudioTestContext(app), IClassFixture<RemoteProviderFactory>
{
    [Fact]
    public async Task Choosing_a_remote_like_model_leaves_only_its_fields_and_its_task_carries_no_diffusion_parameters()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Contains("Negative prompt", page.Markup));
        Assert.Contains("Seed", page.Markup);
        Assert.Contains("Advanced", page.Markup);

        await page.InvokeAsync(() => Select(page, "Model").ValueChanged.InvokeAsync(RemoteProviderFactory.RemoteModel));

        page.WaitForAssertion(() => Assert.DoesNotContain("Negative prompt", page.Markup));
        Assert.DoesNotContain("Seed", page.Markup);
        Assert.DoesNotContain("Advanced", page.Markup);
        Assert.Contains("text only", page.Markup);
        Assert.Contains("up to 1 images", page.Markup);
        // The aspect-ratio items are the only select items with a colon in their value (sizes are "1K", models ids).
        Assert.Equal(["1:1", "16:9"], page.FindComponents<MudSelectItem<string>>()
            .Select(i => i.Instance.Value).Where(v => v?.Contains(':') == true));

        TypePrompt(page, "a fern");
        await page.Find("[data-testid=generate]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=run-panel]")), Wait);
        var task = Assert.Single((await Get<TaskService>().ListAsync(user.Id, new TaskQuery(), CancellationToken.None)).Items);
        Assert.Equal((RemoteProviderFactory.RemoteModel, 0L, 0, 0.0, null), (task.ModelId, task.Seed, task.Steps, task.Guidance, task.NegativePrompt));
    }

    [Fact]
    public async Task Banana_nano_counts_concept_tokens_and_says_when_it_knows_no_word_of_the_prompt()
    {
        await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Contains("Negative prompt", page.Markup));
        await page.InvokeAsync(() => Select(page, "Model").ValueChanged.InvokeAsync("banana-nano"));

        // German "Katze" reaches the eleven cat emoji through the lexicon; "yeehaw" is no word it knows.
        TypePrompt(page, "a Katze next to a banana");
        page.WaitForAssertion(() => Assert.Equal("13 / 75 tokens", page.Find("[data-testid=prompt-tokens]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=prompt-unknown]"));

        TypePrompt(page, "yeehaw");
        page.WaitForAssertion(() => Assert.Equal("0 / 75 tokens", page.Find("[data-testid=prompt-tokens]").TextContent.Trim()));
        Assert.Contains("knows none of these words", page.Find("[data-testid=prompt-unknown]").TextContent);
    }

    private static MudSelect<string> Select(IRenderedComponent<StudioPage> page, string label) =>
        page.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == label).Instance;
}

/// <summary>A model no worker can run is marked in the studio's model list, and Generate says why it is off.</summary>
public sealed class StudioAvailabilityTests(Workers.OrphanModelFactory app) : StudioTestContext(app), IClassFixture<Workers.OrphanModelFactory>
{
    [Fact]
    public async Task A_model_no_worker_can_run_is_marked_and_generate_says_why()
    {
        await SignInNewUserAsync();
        var popovers = RenderProviders();
        var page = Render<StudioPage>();
        page.WaitForAssertion(() => Assert.Equal("5 credits", page.Find("[data-testid=cost]").TextContent.Trim()), Wait);
        TypePrompt(page, "a lighthouse");
        var models = page.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Model").Instance;

        // The list, once opened (its items render in the popover host), marks the model.
        await page.InvokeAsync(models.OpenMenu);
        popovers.WaitForAssertion(() => Assert.Contains("Orphan model (unavailable)", popovers.Markup));
        Assert.DoesNotContain("Test model (unavailable)", popovers.Markup);

        await page.InvokeAsync(() => models.ValueChanged.InvokeAsync(Workers.OrphanModelFactory.Orphan));

        page.WaitForAssertion(() => Assert.True(page.Find("[data-testid=generate]").HasAttribute("disabled")));
        Assert.StartsWith($"The model '{Workers.OrphanModelFactory.Orphan}' cannot run right now",
            page.Find("[data-testid=disabled-reason]").TextContent.Trim());
    }
}
