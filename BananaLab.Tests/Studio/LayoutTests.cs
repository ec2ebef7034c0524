using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Components;
using BananaLab.Web.Components.Layout;
using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using MudBlazor.Extensions;

namespace BananaLab.Tests.Studio;

/// <summary>The studio's frame: theme from the viewer's cookie, the theme toggle, and the brand mark.</summary>
public sealed class LayoutTests(BananaLabFactory app) : StudioTestContext(app), IClassFixture<BananaLabFactory>
{
    private IRenderedComponent<Routes> RenderNotFoundPage(string? themeCookie)
    {
        AddAuthorization();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/not-found");
        // A returning browser sends both viewer cookies (theme and time zone) with every request.
        return Render<Routes>(p => p.Add(x => x.Theme, themeCookie).Add(x => x.TimeZone, "Europe/Berlin"));
    }

    [Fact]
    public void A_dark_theme_cookie_renders_dark_from_the_first_render()
    {
        var cut = RenderNotFoundPage("dark");

        Assert.True(cut.FindComponent<MudThemeProvider>().Instance.GetState(x => x.IsDarkMode));
        Assert.Equal("Switch to light mode", cut.FindComponent<MudTooltip>().Instance.Text);
        // Nothing asked the browser first: the choice came with the request.
        Assert.DoesNotContain(JSInterop.Invocations, i => i.Identifier.StartsWith("bananaLab.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("light")]
    [InlineData("purple")]
    public void Without_a_dark_choice_the_studio_is_light(string? themeCookie)
    {
        var cut = RenderNotFoundPage(themeCookie);

        Assert.False(cut.FindComponent<MudThemeProvider>().Instance.GetState(x => x.IsDarkMode));
    }

    [Fact]
    public void The_app_bar_toggle_switches_the_theme_and_remembers_it_in_the_cookie()
    {
        var cut = RenderNotFoundPage("dark");

        cut.Find("button[aria-label='Toggle dark mode']").Click();

        Assert.False(cut.FindComponent<MudThemeProvider>().Instance.GetState(x => x.IsDarkMode));
        Assert.Equal("light", JSInterop.VerifyInvoke("bananaLab.setTheme").Arguments.Single());
    }

    [Fact]
    public void The_brand_mark_is_the_drawn_logo_not_an_emoji()
    {
        var studio = RenderNotFoundPage(null);
        var account = Render<AccountLayout>(p => p.Add(x => x.Body, (RenderFragment)(b => b.AddContent(0, "sign in"))));

        foreach (var markup in new[] { studio.Markup, account.Markup })
        {
            Assert.DoesNotContain("\U0001F34C", markup);
            Assert.Contains("class=\"brand-mark\" src=\"favicon.svg\"", markup);
        }
        // The logo file itself draws the banana: no text for a font to fill in.
        var logo = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "BananaLab.Web", "wwwroot", "favicon.svg"));
        Assert.DoesNotContain("<text", logo);
        Assert.DoesNotContain("\U0001F34C", logo);
    }
}
