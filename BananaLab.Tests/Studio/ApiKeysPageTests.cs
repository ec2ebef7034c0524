using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Developers;
using Bunit;
using MudBlazor;

namespace BananaLab.Tests.Studio;

public sealed class ApiKeysPageTests(NoWorkerFactory app) : StudioTestContext(app), IClassFixture<NoWorkerFactory>
{
    private ApiKeyService Keys => Get<ApiKeyService>();

    [Fact]
    public async Task Without_keys_the_page_says_so()
    {
        await SignInNewUserAsync();
        RenderProviders();

        var cut = Render<ApiKeysPage>();

        cut.WaitForAssertion(() => Assert.Contains("No API keys yet", cut.Markup), Wait);
        Assert.Empty(cut.FindAll("#key-list"));
    }

    [Fact]
    public async Task A_created_key_is_shown_once_works_and_is_listed_by_prefix()
    {
        var user = await SignInNewUserAsync();
        RenderProviders();
        var cut = Render<ApiKeysPage>();
        cut.WaitForAssertion(() => Assert.Contains("No API keys yet", cut.Markup), Wait);

        cut.Find("#key-name").Input("render server");
        cut.Find("form").Submit();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#new-key-secret")), Wait);
        var secret = cut.Find("#new-key-secret").TextContent.Trim();
        Assert.StartsWith(ApiKeyService.KeyMarker, secret);
        Assert.Contains("will not be shown again", cut.Find("#new-key").TextContent);
        var authenticated = await Keys.AuthenticateAsync(secret);
        Assert.Equal(user.Id, authenticated?.User.Id);
        Assert.Equal("render server", authenticated!.Key.Name);

        var row = cut.Find("#key-list tbody tr");
        Assert.Contains("render server", row.TextContent);
        Assert.Contains(secret[..ApiKeyService.PrefixLength] + "…", row.TextContent);
        Assert.DoesNotContain(secret, row.TextContent);
        Assert.Contains("Never", row.TextContent);
        Assert.Contains("Active", row.TextContent);

        // Coming back to the page never shows the secret again.
        var again = Render<ApiKeysPage>();
        again.WaitForAssertion(() => Assert.Contains("render server", again.Markup), Wait);
        Assert.DoesNotContain(secret, again.Markup);
        Assert.Empty(again.FindAll("#new-key"));
    }

    [Fact]
    public async Task The_copy_button_hands_the_secret_to_the_clipboard_helper()
    {
        await SignInNewUserAsync();
        RenderProviders();
        var cut = Render<ApiKeysPage>();
        cut.WaitForAssertion(() => Assert.Contains("No API keys yet", cut.Markup), Wait);
        cut.Find("form").Submit();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#new-key-secret")), Wait);
        var secret = cut.Find("#new-key-secret").TextContent.Trim();
        JSInterop.Setup<bool>("bananaLab.copy", secret).SetResult(true);

        cut.Find("#copy-key").Click();

        var call = Assert.Single(JSInterop.Invocations, i => i.Identifier == "bananaLab.copy");
        Assert.Equal(secret, call.Arguments[0]);
    }

    [Fact]
    public async Task Revoking_asks_first_and_then_the_key_stops_working()
    {
        var user = await SignInNewUserAsync();
        var created = await Keys.CreateAsync(user.Id, "old laptop");
        var kept = await Keys.CreateAsync(user.Id, "ci runner");
        // The providers by hand (not RenderProviders) to keep hold of the dialog host.
        var dialogHost = Render<MudDialogProvider>();
        Render<MudSnackbarProvider>();
        Render<MudPopoverProvider>();
        var cut = Render<ApiKeysPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("#key-list tbody tr").Count), Wait);

        // Declining the confirmation keeps the key.
        RevokeButton(cut, "old laptop").Click();
        dialogHost.WaitForAssertion(() => Assert.Contains("Revoke this key?", dialogHost.Markup), Wait);
        dialogHost.FindAll("button").Single(b => b.TextContent.Contains("Keep it")).Click();
        dialogHost.WaitForAssertion(() => Assert.DoesNotContain("Revoke this key?", dialogHost.Markup), Wait);
        Assert.NotNull(await Keys.AuthenticateAsync(created.Secret));

        RevokeButton(cut, "old laptop").Click();
        dialogHost.WaitForAssertion(() => Assert.Contains("Revoke this key?", dialogHost.Markup), Wait);
        dialogHost.FindAll("button").Single(b => b.TextContent.Trim() == "Revoke").Click();

        cut.WaitForAssertion(() => Assert.Contains("Revoked", Row(cut, "old laptop").TextContent), Wait);
        Assert.Null(await Keys.AuthenticateAsync(created.Secret));
        Assert.Contains("Active", Row(cut, "ci runner").TextContent);
        Assert.NotNull(await Keys.AuthenticateAsync(kept.Secret));
        Assert.Empty(Row(cut, "old laptop").QuerySelectorAll("button"));
    }

    [Fact]
    public async Task Someone_elses_keys_are_not_listed()
    {
        var other = await SignInNewUserAsync();
        await Keys.CreateAsync(other.Id, "their secret tool");
        await SignInNewUserAsync();
        RenderProviders();

        var cut = Render<ApiKeysPage>();

        cut.WaitForAssertion(() => Assert.Contains("No API keys yet", cut.Markup), Wait);
        Assert.DoesNotContain("their secret tool", cut.Markup);
    }

    [Fact]
    public async Task When_keys_cannot_be_read_or_created_the_page_says_so_without_exception_text()
    {
        await SignInNewUserAsync();
        Services.AddSingleton(ActivatorUtilities.CreateInstance<ApiKeyService>(App.Services, new FailingDbContextFactory()));
        RenderProviders();

        var cut = Render<ApiKeysPage>();

        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("#keys-unavailable")), Wait);
        Assert.DoesNotContain("No API keys yet", cut.Markup);
        cut.Find("form").Submit();
        cut.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars,
            s => s.Message?.Contains("could not be created") == true), Wait);
        Assert.Empty(cut.FindAll("#new-key"));
        Assert.DoesNotContain(FailingDbContextFactory.Detail, cut.Markup);
    }

    private static AngleSharp.Dom.IElement Row(IRenderedComponent<ApiKeysPage> cut, string name) =>
        cut.FindAll("#key-list tbody tr").Single(r => r.TextContent.Contains(name));

    private static AngleSharp.Dom.IElement RevokeButton(IRenderedComponent<ApiKeysPage> cut, string name) =>
        Row(cut, name).QuerySelector("button.revoke-key")!;
}
