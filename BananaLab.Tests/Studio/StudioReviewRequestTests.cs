using BananaLab.Core.Moderation;
using BananaLab.Core.Reporting;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Studio;
using System.Text.RegularExpressions;
using Bunit;

namespace BananaLab.Tests.Studio;

/// <summary>The studio's one click under a refused prompt, over the real app's moderation and database.</summary>
public sealed class StudioReviewRequestTests(NoWorkerFactory app) : StudioTestContext(app), IClassFixture<NoWorkerFactory>
{
    [Fact]
    public async Task A_refused_prompt_asks_for_a_review_in_one_click_admins_see_it_and_the_message_stays_neutral()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var page = Render<StudioPage>();
        page.Find("[data-testid=prompt]").Input("a csam picture");
        page.WaitForAssertion(() => Assert.Equal("Ask for a review", page.Find("[data-testid=ask-review]").TextContent.Trim()), Wait);

        page.Find("[data-testid=ask-review]").Click();

        page.WaitForAssertion(() =>
        {
            var button = page.Find("[data-testid=ask-review]");
            Assert.Equal("Review requested", button.TextContent.Trim());
            Assert.True(button.HasAttribute("disabled"));
        }, Wait);
        Assert.Equal(ModerationDecision.NeutralMessage, page.Find("[data-testid=moderation-message]").TextContent.Trim());
        var requested = await Get<AdminReports>().ModerationAsync(
            new ModerationLogQuery { UserEmail = user.Email, Review = ModerationReviewState.Requested }, default);
        var decision = Assert.Single(requested.Items).Decision;
        Assert.False(decision.Allowed);
        Assert.Equal("a csam picture", decision.Prompt);
        Assert.Equal("studio", decision.Source);
        Assert.NotEmpty(decision.Categories);
        var visible = string.Concat(page.Nodes.Select(n => n.TextContent));
        foreach (var secret in AdminFormatted(decision)) Assert.DoesNotMatch($@"\b{Regex.Escape(secret)}\b", visible);

        // Asking again about the same text is the same request, not a second one.
        var again = await Get<ModerationReviews>().RequestForPromptAsync(user.Id, "a csam picture", null, default);
        Assert.Equal(decision.Id, again.Value!.Id);

        // Another refused prompt can be asked about on its own.
        page.Find("[data-testid=prompt]").Input("g.o.r.e on the stairs");
        page.WaitForAssertion(() => Assert.Equal("Ask for a review", page.Find("[data-testid=ask-review]").TextContent.Trim()), Wait);
    }

    /// <summary>What only admins may read of a decision: its categories and matched rules.</summary>
    private static IEnumerable<string> AdminFormatted(ModerationDecisionRecord decision) =>
        decision.Categories.Split(',').Concat(decision.MatchedRules.Split(',')).Where(s => s.Length > 0 && !"a csam picture".Contains(s));
}
