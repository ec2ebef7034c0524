using BananaLab.Core.Credits;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Pages.Admin;
using Bunit;
using Microsoft.AspNetCore.Components;

namespace BananaLab.Tests.Studio;

public sealed class AdminUsersTests(BananaLabFactory app) : AdminTestContext(app), IClassFixture<BananaLabFactory>
{
    private IRenderedComponent<Users> RenderUsersFor(User user)
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/admin/users?search={Uri.EscapeDataString(user.Email)}");
        var page = Render<Users>();
        page.WaitForAssertion(() => Assert.Contains(user.Email, page.Markup));
        return page;
    }

    private static void Click(IRenderedComponent<Users> page, string ariaLabel) =>
        page.Find($"button[aria-label='{ariaLabel}']").Click();

    [Fact]
    public async Task Users_page_lists_accounts_with_balance_role_and_state()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync(credits: 42);
        RenderHosts();

        var page = RenderUsersFor(user);

        var row = page.FindAll("tr").Single(r => r.TextContent.Contains(user.Email));
        Assert.Contains("42", row.QuerySelector(".balance")!.TextContent);
        Assert.Contains("User", row.TextContent);
        Assert.Contains("Active", row.TextContent);
        Assert.Contains($"/admin/tasks?user={Uri.EscapeDataString(user.Email)}", row.InnerHtml);
    }

    [Fact]
    public async Task Adjust_credits_needs_an_amount_and_a_reason_and_refuses_an_overdraft()
    {
        var admin = await SignInAdminAsync();
        var user = await CreateUserAsync(credits: 30);
        var (dialogs, snackbars) = RenderHosts();
        var page = RenderUsersFor(user);

        Click(page, $"Adjust credits of {user.Email}");
        dialogs.WaitForAssertion(() => Assert.Contains("Adjust credits", dialogs.Markup));
        Assert.Equal("30", dialogs.Find("#current-balance").TextContent);

        dialogs.Find("#adjust-apply").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Enter an amount other than zero.", dialogs.Find("#adjust-error").TextContent));

        dialogs.Find("input#adjust-amount").Input("-50");
        dialogs.Find("#adjust-apply").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Give a reason", dialogs.Find("#adjust-error").TextContent));

        dialogs.Find("textarea#adjust-reason").Input("chargeback");
        dialogs.Find("#adjust-apply").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("would make the balance negative; the user has 30", dialogs.Find("#adjust-error").TextContent));
        Assert.Equal(30, await Get<CreditLedger>().GetBalanceAsync(user.Id));

        dialogs.Find("input#adjust-amount").Input("-20");
        dialogs.Find("#adjust-apply").Click();
        snackbars.WaitForAssertion(() => Assert.Contains($"{user.Email} now has 10 credits.", snackbars.Markup));
        Assert.Empty(dialogs.FindAll("#adjust-apply"));
        Assert.Equal(10, await Get<CreditLedger>().GetBalanceAsync(user.Id));
        var entry = (await Get<CreditLedger>().GetEntriesAsync(user.Id, 0, 1))[0];
        Assert.Equal((CreditEntryKind.Adjustment, -20, "chargeback", admin.Id), (entry.Kind, entry.Amount, entry.Reason, entry.ActorUserId!.Value));
        page.WaitForAssertion(() => Assert.Contains("10", page.FindAll("tr").Single(r => r.TextContent.Contains(user.Email)).QuerySelector(".balance")!.TextContent));
    }

    [Fact]
    public async Task Granting_credits_adds_them_to_the_ledger()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync(credits: 0);
        var (dialogs, snackbars) = RenderHosts();
        var page = RenderUsersFor(user);

        Click(page, $"Adjust credits of {user.Email}");
        dialogs.WaitForElement("input#adjust-amount").Input("250");
        dialogs.Find("textarea#adjust-reason").Input("conference prize");
        dialogs.Find("#adjust-apply").Click();

        snackbars.WaitForAssertion(() => Assert.Contains("now has 250 credits", snackbars.Markup));
        Assert.Equal(250, await Get<CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Disabling_a_user_after_confirmation_stops_their_api_key()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var key = await Get<ApiKeyService>().CreateAsync(user.Id, "ci");
        Assert.NotNull(await Get<ApiKeyService>().AuthenticateAsync(key.Secret));
        var (dialogs, snackbars) = RenderHosts();
        var page = RenderUsersFor(user);

        Click(page, $"Disable {user.Email}");
        dialogs.WaitForAssertion(() => Assert.Contains("their API keys stop working", dialogs.Markup));
        Assert.False((await Get<UserService>().FindAsync(user.Id))!.Disabled);
        dialogs.Find("#confirm-action").Click();

        snackbars.WaitForAssertion(() => Assert.Contains($"{user.Email} is disabled.", snackbars.Markup));
        Assert.True((await Get<UserService>().FindAsync(user.Id))!.Disabled);
        Assert.Null(await Get<ApiKeyService>().AuthenticateAsync(key.Secret));
        page.WaitForAssertion(() => Assert.Contains("Disabled", page.FindAll("tr").Single(r => r.TextContent.Contains(user.Email)).TextContent));

        Click(page, $"Enable {user.Email}");
        dialogs.WaitForElement("#confirm-action").Click();
        snackbars.WaitForAssertion(() => Assert.Contains($"{user.Email} is enabled.", snackbars.Markup));
        Assert.NotNull(await Get<ApiKeyService>().AuthenticateAsync(key.Secret));
    }

    [Fact]
    public async Task Canceling_the_confirmation_changes_nothing()
    {
        await SignInAdminAsync();
        var user = await CreateUserAsync();
        var (dialogs, _) = RenderHosts();
        var page = RenderUsersFor(user);

        Click(page, $"Disable {user.Email}");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("#confirm-action")));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("#confirm-action")));
        Assert.False((await Get<UserService>().FindAsync(user.Id))!.Disabled);
    }

    [Fact]
    public async Task Role_changes_after_confirmation_and_an_admin_cannot_demote_or_disable_themself()
    {
        var admin = await SignInAdminAsync();
        var user = await CreateUserAsync();
        var (dialogs, snackbars) = RenderHosts();
        var page = RenderUsersFor(user);

        Click(page, $"Change role of {user.Email}");
        dialogs.WaitForElement("#confirm-action").Click();
        snackbars.WaitForAssertion(() => Assert.Contains($"{user.Email} is now an admin.", snackbars.Markup));
        Assert.Equal(UserRole.Admin, (await Get<UserService>().FindAsync(user.Id))!.Role);

        var self = RenderUsersFor(admin);
        Assert.True(self.Find($"button[aria-label='Change role of {admin.Email}']").HasAttribute("disabled"));
        Assert.True(self.Find($"button[aria-label='Disable {admin.Email}']").HasAttribute("disabled"));
        Assert.False(self.Find($"button[aria-label='Adjust credits of {admin.Email}']").HasAttribute("disabled"));
        Assert.Equal(UserRole.Admin, (await Get<UserService>().FindAsync(admin.Id))!.Role);
    }
}
