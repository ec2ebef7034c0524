using System.Reflection;
using System.Security.Claims;
using BananaLab.Core.Credits;
using BananaLab.Core.Moderation;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using BananaLab.Web.Auth;
using BananaLab.Web.Pages.Admin;
using Bunit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using MudBlazor;

namespace BananaLab.Tests.Studio;

/// <summary>Admin pages refuse members at the route, and every load and action checks the role again.</summary>
public sealed class AdminAccessTests(NoWorkerFactory app) : AdminTestContext(app), IClassFixture<NoWorkerFactory>
{
    public static TheoryData<Type> AdminPages => [typeof(Dashboard), typeof(TaskLog), typeof(AdminTask), typeof(ModerationPage), typeof(Users), typeof(Models)];

    [Theory]
    [MemberData(nameof(AdminPages))]
    public void Every_admin_page_is_routed_under_admin_and_requires_the_admin_policy(Type page)
    {
        var authorize = Assert.Single(page.GetCustomAttributes<AuthorizeAttribute>());
        Assert.Equal(StudioPolicies.Admin, authorize.Policy);
        Assert.StartsWith("/admin", Assert.Single(page.GetCustomAttributes<RouteAttribute>()).Template);
    }

    [Fact]
    public async Task The_admin_policy_admits_admins_and_refuses_members()
    {
        var authorization = Get<IAuthorizationService>();
        ClaimsPrincipal Principal(UserRole role) => CallerPrincipal.Create(
            new User { Id = Guid.NewGuid(), Email = "x@example.test", NormalizedEmail = "X@EXAMPLE.TEST", DisplayName = "X", Role = role },
            IdentityConstants.ApplicationScheme);

        Assert.True((await authorization.AuthorizeAsync(Principal(UserRole.Admin), StudioPolicies.Admin)).Succeeded);
        Assert.False((await authorization.AuthorizeAsync(Principal(UserRole.User), StudioPolicies.Admin)).Succeeded);
        Assert.False((await authorization.AuthorizeAsync(new ClaimsPrincipal(new ClaimsIdentity()), StudioPolicies.Admin)).Succeeded);
    }

    [Theory]
    [MemberData(nameof(AdminPages))]
    public async Task The_route_view_shows_a_member_the_refusal_instead_of_the_page(Type page)
    {
        await SignInNewUserAsync();
        RenderHosts();
        var routeValues = page == typeof(AdminTask) ? new Dictionary<string, object?> { ["Id"] = Guid.NewGuid() } : [];

        var view = Render<AuthorizeRouteView>(p => p
            .Add(x => x.RouteData, new RouteData(page, routeValues))
            .Add(x => x.NotAuthorized, _ => "<p id=\"refused\">This page is for administrators</p>"));

        Assert.Single(view.FindAll("#refused"));
        Assert.Empty(view.FindAll("h1"));
    }

    [Fact]
    public async Task The_route_view_gives_an_admin_the_page()
    {
        await SignInAdminAsync();
        AddAuthorization().SetPolicies(StudioPolicies.Admin);
        RenderHosts();

        var view = Render<AuthorizeRouteView>(p => p
            .Add(x => x.RouteData, new RouteData(typeof(TaskLog), new Dictionary<string, object?>()))
            .Add(x => x.NotAuthorized, _ => "<p id=\"refused\">This page is for administrators</p>"));

        Assert.Empty(view.FindAll("#refused"));
        Assert.Equal("Task log", view.Find("h1").TextContent);
    }

    [Fact]
    public async Task A_member_rendering_the_users_page_directly_sees_no_accounts_and_a_refusal()
    {
        var member = await SignInNewUserAsync();
        var (_, snackbars) = RenderHosts();

        var page = Render<Users>();

        snackbars.WaitForAssertion(() => Assert.Contains(AdminPageBase.NotAllowedMessage, snackbars.Markup));
        Assert.DoesNotContain(member.Email, page.Markup);
        Assert.Contains("No users match", page.Markup);
    }

    [Fact]
    public async Task A_member_cannot_adjust_credits_even_with_the_dialog_open()
    {
        await SignInNewUserAsync();
        var target = await CreateUserAsync(credits: 10);
        var (dialogs, _) = RenderHosts();
        var dialogService = Services.GetRequiredService<IDialogService>();
        await dialogs.InvokeAsync(() => dialogService.ShowAsync<AdjustCreditsDialog>("Adjust credits",
            new DialogParameters<AdjustCreditsDialog> { { x => x.UserId, target.Id }, { x => x.Email, target.Email }, { x => x.Balance, 10 } }));

        dialogs.WaitForElement("input#adjust-amount").Input("1000");
        dialogs.Find("textarea#adjust-reason").Input("free credits");
        dialogs.Find("#adjust-apply").Click();

        dialogs.WaitForAssertion(() => Assert.Contains(AdminPageBase.NotAllowedMessage, dialogs.Find("#adjust-error").TextContent));
        Assert.Equal(10, await Get<CreditLedger>().GetBalanceAsync(target.Id));
    }

    [Fact]
    public async Task A_member_cannot_add_a_moderation_term_or_read_a_task()
    {
        var member = await SignInNewUserAsync();
        var (_, snackbars) = RenderHosts();
        var moderation = Render<ModerationPage>();

        moderation.Find("input#term-text").Change("sneakyterm");
        moderation.Find("input#term-reason").Change("because");
        moderation.Find("#term-add").Click();

        moderation.WaitForAssertion(() => Assert.Contains(AdminPageBase.NotAllowedMessage, moderation.Find("#term-error").TextContent));
        Assert.DoesNotContain(await Get<ModerationTermsService>().ListAsync(default), t => t.Term == "sneakyterm");

        var blocked = await SubmitBlockedAsync(member.Id);
        var task = Render<AdminTask>(p => p.Add(x => x.Id, blocked.Id));
        task.WaitForAssertion(() => Assert.Contains("There is no such task", task.Markup));
        Assert.DoesNotContain(blocked.Prompt, task.Markup);
        Assert.Contains(AdminPageBase.NotAllowedMessage, snackbars.Markup);
    }
}
